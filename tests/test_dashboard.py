"""The dashboard page, its CSV downloads, filters in the URL, the public switch, the settings
page, and a statement count that does not grow with the data."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import event, insert, select

from pairing.dashboard.models import Setting
from pairing.extensions import db
from pairing.pairings.models import Activity, Pairing, PairingEvent, refresh_periods
from pairing.schools.models import School

from . import factories as f
from .test_progress import world  # noqa: F401  (fixture)

ON = "2025-01-01"


@pytest.fixture
def app_config():
    # The cache is off here: these tests count the statements of the computation itself and
    # change data with bulk inserts; tests/test_dashboard_cache.py covers the cache.
    return {"TARGET_DATE": date(2026, 1, 1), "BASELINE_DATE": date(2024, 1, 1),
            "TARGET_SHARE": 1.0, "DORMANCY_MONTHS": 12, "DASHBOARD_CACHE": False}


def metric(html: str, key: str) -> str:
    m = re.search(rf'data-metric="{key}">([^<]*)<', html)
    assert m, key
    return m.group(1).strip()


def count_badge(html: str, key: str) -> int:
    m = re.search(rf'data-count="{key}">(\d+)<', html)
    assert m, key
    return int(m.group(1))


def test_dashboard_shows_figures_charts_and_lists(client, login_as, world):  # noqa: F811
    login_as("official")
    resp = client.get(f"/dashboard/?on={ON}", headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert metric(html, "paired") == "3 / 6"
    assert metric(html, "unpaired") == "3"
    assert metric(html, "pairings") == "3"
    assert metric(html, "activities") == "3"
    assert metric(html, "months-left") == "12"
    assert count_badge(html, "unpaired") == 3
    assert count_badge(html, "dormant") == 2
    assert count_badge(html, "ending") == 1
    assert "Behind the target path by 1 school" in html
    assert "0.25 schools a month must be newly paired" in html
    assert "How we count" in html
    # Every chart's figure sits in a JSON script element; no inline executable script.
    for cid in ("trajectory", "districts", "levels", "ownership", "countries", "cities",
                "quarters", "modes", "school-years"):
        m = re.search(rf'<script type="application/json" class="chart-data" '
                      rf'id="chart-{cid}-data"[^>]*>(.*?)</script>', html, re.S)
        assert m, cid
        fig = json.loads(m.group(1))
        assert fig["data"], cid
    assert not re.search(r"<script(?![^>]*(src=|application/json))[^>]*>", html)
    traj = json.loads(re.search(r'id="chart-trajectory-data"[^>]*>(.*?)</script>', html,
                                re.S).group(1))
    names = [t["name"] for t in traj["data"]]
    assert names[:3] == ["Paired (on paper)", "Engaged (live)", "Target path"]
    assert traj["data"][3]["line"]["dash"] == "dash"  # projection
    assert traj["data"][0]["y"][-1] == 50.0 and traj["data"][0]["y"][0] == pytest.approx(28.6)
    # Links to the records.
    assert f'href="/schools/{world["s"][6]}"' in html
    assert f'href="/pairings/{world["p"][3]}"' in html
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp


def test_filters_in_the_query_string_change_every_figure(client, login_as, world):  # noqa: F811
    login_as("staff")
    html = client.get(f"/dashboard/?on={ON}&district={world['a']}&level=junior",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert metric(html, "paired") == "1 / 2"
    assert metric(html, "unpaired") == "1"
    assert count_badge(html, "unpaired") == 1
    assert count_badge(html, "dormant") == 1  # p3 only
    assert f"district={world['a']}" in html and "level=junior" in html  # CSV links keep them
    # Bad values in a shared link are ignored, not errors.
    resp = client.get(f"/dashboard/?on={ON}&district=999999&level=bogus&ownership=x")
    assert resp.status_code == 200
    assert metric(resp.get_data(as_text=True), "paired") == "3 / 6"


def test_csv_download_has_bom_and_the_filtered_rows(client, login_as, world):  # noqa: F811
    login_as("official")
    resp = client.get(f"/dashboard/districts.csv?on={ON}", headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="districts-2025-01-01.csv"' in resp.headers["Content-Disposition"]
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows == [["District", "Open schools", "Paired schools", "Engaged schools",
                     "Paired share (%)"],
                    ["Banqiao", "3", "1", "0", "33.3"], ["Tamsui", "3", "2", "1", "66.7"]]
    resp = client.get(f"/dashboard/districts.csv?on={ON}&ownership=private",
                      headers={"Accept-Language": "en"})
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[1:] == [["Tamsui", "1", "1", "0", "100.0"]]
    traj = list(csv.reader(io.StringIO(client.get(f"/dashboard/trajectory.csv?on={ON}")
                                       .data.decode("utf-8-sig"))))
    assert [r[0] for r in traj[1:]][:2] == ["2024-01-01", "2024-02-01"]
    assert [int(r[2]) for r in traj[1:]] == [2, 3, 3, 4, 3, 3, 4, 5, 4, 3, 3, 3, 3]
    years = client.get(f"/dashboard/school-years.csv?on={ON}").data.decode("utf-8-sig")
    assert "2023-24,35,3,2" in years and "2024-25,4,1,1" in years
    assert client.get("/dashboard/nope.csv").status_code == 404


def test_chinese_page_uses_plotly_zh_tw_locale(client, login_as, world):  # noqa: F811
    login_as("official")
    html = client.get(f"/dashboard/?on={ON}", headers={"Accept-Language": "zh-TW"}) \
        .get_data(as_text=True)
    cfg = json.loads(re.search(r'id="plotly-config">(.*?)</script>', html, re.S).group(1))
    assert cfg["locale"] == "zh-TW"
    assert cfg["locales"]["zh-TW"]["dictionary"]["Download plot as a png"]
    assert "淡水區" in html
    # (Flask-Babel keeps the first request's locale while the test's app context lives.)
    years = client.get(f"/dashboard/school-years.csv?on={ON}").data.decode("utf-8-sig")
    assert "112學年度,35,3,2" in years and "113學年度,4,1,1" in years


@pytest.mark.parametrize("public", [False, True])
def test_anonymous_only_with_public_dashboard(app, client, world, public):  # noqa: F811
    app.config["PUBLIC_DASHBOARD"] = public
    with app.app_context():
        f.make_user(db.session, role="principal", school=db.session.get(School, world["s"][1]),
                    name="Secret Person")
        db.session.commit()
    resp = client.get(f"/dashboard/?on={ON}")
    csv_resp = client.get(f"/dashboard/levels.csv?on={ON}")
    if not public:
        assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]
        assert csv_resp.status_code == 302
        return
    assert resp.status_code == 200 and csv_resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Secret Person" not in html
    assert f'href="/schools/{world["s"][6]}"' not in html  # names only, no record links
    assert metric(html, "paired") == "3 / 6"


def test_settings_page_validates_and_saves(app, client, login_as):
    login_as("admin")
    resp = client.get("/dashboard/settings", headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    assert 'value="2026-01-01"' in resp.get_data(as_text=True)
    bad = {"target_date": "2030-12-31", "target_share": "120", "baseline_date": "2031-01-01",
           "dormancy_months": "0"}
    resp = client.post("/dashboard/settings", data=bad, headers={"Accept-Language": "en"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Enter a share from 1 to 100." in html
    assert "The baseline date must be before the target date." in html
    assert "Enter 1 to 60 months." in html
    with app.app_context():
        assert db.session.scalar(select(sa.func.count()).select_from(Setting)) == 0
    good = {"target_date": "2030-12-31", "target_share": "90", "baseline_date": "2023-04-01",
            "dormancy_months": "18"}
    resp = client.post("/dashboard/settings", data=good)
    assert resp.status_code == 302
    with app.app_context():
        stored = dict(db.session.execute(select(Setting.key, Setting.value)).all())
    assert stored == {"target_date": "2030-12-31", "target_share": "0.9",
                      "baseline_date": "2023-04-01", "dormancy_months": "18"}
    html = client.get("/dashboard/?on=2025-01-01", headers={"Accept-Language": "en"}) \
        .get_data(as_text=True)
    assert "no activity started in the last 18 months" in html


def test_settings_page_is_admin_only(client, login_as):
    login_as("staff")
    assert client.get("/dashboard/settings").status_code == 403
    assert client.post("/dashboard/settings", data={}).status_code == 403


def _bulk_world(session, n_schools: int) -> None:
    """n schools; every other one paired (with two events), every third with an activity."""
    district = f.make_district(session, name_zh="淡水區")
    partner = f.make_partner_school(session, name="Bulk Partner")
    session.execute(insert(School), [
        {"code": f"{900000 + i:06d}", "name_zh": f"學校{i}", "district_id": district.id,
         "serves_primary": i % 3 != 0, "serves_junior": i % 3 == 0, "serves_senior": False,
         "is_public": i % 5 != 0, "closed_on": date(2024, 6, 1) if i % 50 == 0 else None}
        for i in range(n_schools)])
    ids = session.scalars(select(School.id).order_by(School.id)).all()
    session.execute(insert(Pairing), [
        {"school_id": sid, "partner_school_id": partner.id, "status": "active",
         "signed_on": date(2024, 1, 1), "end_on": date(2025, 2, 1)}
        for sid in ids[::2]])
    pids = session.scalars(select(Pairing.id).order_by(Pairing.id)).all()
    session.execute(insert(PairingEvent), [
        {"pairing_id": pid, "status": st, "effective_on": d}
        for pid in pids for st, d in (("proposed", date(2023, 6, 1)),
                                      ("active", date(2024, 1, 1)))])
    session.execute(insert(Activity), [
        {"pairing_id": pid, "title": "Bulk", "type": "virtual_exchange", "mode": "virtual",
         "start_on": date(2024, 5, 1), "local_students": 3}
        for pid in pids[::3]])
    refresh_periods(session)
    session.commit()


def _count_statements(app, client) -> int:
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        resp = client.get(f"/dashboard/?on={ON}")
        assert resp.status_code == 200
        csv_resp = client.get(f"/dashboard/districts.csv?on={ON}&level=primary")
        assert csv_resp.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def test_statement_count_does_not_grow_with_data(app, client, login_as):
    login_as("official")
    with app.app_context():
        _bulk_world(db.session, 10)
    small = _count_statements(app, client)
    with app.app_context():
        # 990 more schools in another district: 1,000 in all.
        district = f.make_district(db.session, name_zh="板橋區")
        db.session.execute(insert(School), [
            {"code": f"{800000 + i:06d}", "name_zh": f"學校B{i}", "district_id": district.id,
             "serves_primary": True, "is_public": True} for i in range(990)])
        db.session.commit()
        _bulk_world_more(db.session)
        assert db.session.scalar(select(sa.func.count()).select_from(School)) == 1000
    large = _count_statements(app, client)
    assert small == large
    assert small < 40


def _bulk_world_more(session) -> None:
    """Pair every other new school too, with events and activities."""
    partner = f.make_partner_school(session, name="Bulk Partner 2", country="JP")
    paired = set(session.scalars(select(Pairing.school_id)))
    ids = [i for i in session.scalars(select(School.id).order_by(School.id)) if i not in paired]
    session.execute(insert(Pairing), [
        {"school_id": sid, "partner_school_id": partner.id, "status": "active",
         "signed_on": date(2024, 3, 1)} for sid in ids[::2]])
    pids = session.scalars(select(Pairing.id).where(Pairing.partner_school_id == partner.id)).all()
    session.execute(insert(PairingEvent), [
        {"pairing_id": pid, "status": "active", "effective_on": date(2024, 3, 1)}
        for pid in pids])
    session.execute(insert(Activity), [
        {"pairing_id": pid, "title": "Bulk", "type": "joint_project", "mode": "hybrid",
         "start_on": date(2024, 10, 1), "local_teachers": 1} for pid in pids[::4]])
    refresh_periods(session)
    session.commit()


def test_long_action_lists_show_the_first_entries_and_the_full_count(app, client, login_as):
    login_as("official")
    with app.app_context():
        _bulk_world(db.session, 120)  # the 60 odd-numbered schools are open and unpaired
    html = client.get(f"/dashboard/?on={ON}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert count_badge(html, "unpaired") == 60
    unpaired = html[html.index('id="unpaired-list"'):html.index('id="dormant-title"')]
    assert unpaired.count("data-school-id=") == 50
    assert "Showing 50 of 60." in unpaired
    assert "paired=no" not in unpaired  # a past date: today's school list would not match


def test_district_chart_shows_the_lowest_thirty_of_many(app, client, login_as):
    login_as("official")
    with app.app_context():
        for i in range(32):
            district = f.make_district(db.session, name_zh=f"第{i:02d}區", name_en=f"D{i:02d}")
            school = f.make_school(db.session, district=district)
            if i >= 2:  # two districts stay unpaired: they must be among the bars
                f.make_pairing(db.session, school=school, signed_on=date(2024, 1, 1))
        db.session.commit()
    html = client.get(f"/dashboard/?on={ON}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    data = re.search(r'id="chart-districts-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    figure = json.loads(data)
    assert len(figure["data"][0]["y"]) == 30
    assert {"D00", "D01"} <= set(figure["data"][0]["y"])
    assert "of 32" in figure["layout"]["title"]["text"]
    rows = list(csv.reader(io.StringIO(client.get(
        f"/dashboard/districts.csv?on={ON}").get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 33  # header and every district


def test_county_filter_narrows_the_district_choices(client, login_as, session):
    login_as("official")
    tamsui = f.make_district(session, name_zh="淡水區", name_en="Tamsui")
    east = f.make_district(session, name_zh="東區", name_en="East", county="臺南市")
    f.make_school(session, district=tamsui)
    f.make_school(session, district=east)
    session.commit()

    def district_options(html: str) -> list[str]:
        select_html = re.search(r'<select[^>]*name="district"[^>]*>(.*?)</select>', html,
                                re.S).group(1)
        return re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)<', select_html)

    html = client.get(f"/dashboard/?on={ON}").get_data(as_text=True)
    labels = dict(district_options(html))
    assert labels[str(east.id)] == "Tainan City East"  # several counties: named with it
    html = client.get(f"/dashboard/?on={ON}&county=臺南市").get_data(as_text=True)
    assert district_options(html) == [(str(east.id), "East")]
    # A district of another county does not combine with the county: it is ignored.
    html = client.get(f"/dashboard/?on={ON}&county=臺南市&district={tamsui.id}").get_data(
        as_text=True)
    assert metric(html, "paired") == "0 / 1"

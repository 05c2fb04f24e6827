"""Pairing pages: list, detail, create, edit, delete, and who may do what."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa

from pairing.common.enums import PairingStatus
from pairing.extensions import db
from pairing.pairings.models import Pairing, PairingEvent

from . import factories


@contextmanager
def dbs(app):
    with app.app_context():
        yield db.session


def count(app, model) -> int:
    with dbs(app) as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def get_pairing(app, pairing_id):
    with dbs(app) as s:
        p = s.get(Pairing, pairing_id)
        if p is None:
            return None
        return {"status": p.status, "signed_on": p.signed_on, "ended_on": p.ended_on,
                "notes": p.notes, "version": p.version, "partner_school_id": p.partner_school_id,
                "events": [(e.status.value, e.effective_on) for e in p.events]}


@pytest.fixture(autouse=True)
def english(client):
    """Assert on the English texts, whatever the default locale."""
    client.set_cookie("lang", "en")


@pytest.fixture
def world(app):
    """Two schools in 淡水區, one in 板橋區, two partner schools, three pairings."""
    with dbs(app) as s:
        tamsui = factories.make_district(s, name_zh="淡水區", name_en="Tamsui District")
        banqiao = factories.make_district(s, name_zh="板橋區", name_en="Banqiao District")
        city = factories.make_partner_city(s, name="Holmdel", region="New Jersey")
        a = factories.make_school(s, code="014501", district=tamsui, name_zh="淡水甲國小",
                                  name_en=None)
        b = factories.make_school(s, code="014502", district=tamsui, name_zh="淡水乙國小",
                                  name_en=None)
        c = factories.make_school(s, code="014503", district=banqiao, name_zh="板橋丙國中",
                                  name_en=None, levels=("junior",))
        us = factories.make_partner_school(s, name="Holmdel Elementary", partner_city=city)
        jp = factories.make_partner_school(s, name="Osaka Gakuen", country="JP", city="Osaka")
        pa = factories.make_pairing(s, school=a, partner=us, signed_on=date(2023, 1, 15))
        pb = factories.make_pairing(s, school=b, partner=us, signed_on=date(2024, 4, 1))
        pc = factories.make_pairing(s, school=c, partner=jp, status="negotiating")
        act = factories.make_activity(s, pairing=pa, title="Spring video call",
                                      start_on=date(2024, 3, 1), local_students=12)
        s.commit()
        return {"school_a": a.id, "school_b": b.id, "school_c": c.id, "us": us.id, "jp": jp.id,
                "pairing_a": pa.id, "pairing_b": pb.id, "pairing_c": pc.id, "activity": act.id,
                "tamsui": tamsui.id, "banqiao": banqiao.id, "city": city.id}


def form_data(**kw) -> dict:
    data = {"school_code": "014501", "partner_school_id": "", "status": "proposed",
            "effective_on": "2024-09-01", "signed_on": "", "start_on": "", "end_on": "",
            "ended_on": "", "focus_areas": "", "coordinator": "", "notes": ""}
    data.update({k: str(v) for k, v in kw.items()})
    return data


# ------------------------------------------------------------------ list


def test_list_shows_every_pairing_with_count_and_export_links(client, login_as, world):
    login_as("staff")
    resp = client.get("/pairings/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="pairing-count">3<' in html
    for name in ("淡水甲國小", "淡水乙國小", "板橋丙國中", "Osaka Gakuen", "Holmdel Elementary"):
        assert name in html
    assert "/imports/export/pairings?format=csv" in html
    assert "/imports/export/pairings?format=xlsx" in html


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "淡水乙"}, ["淡水乙國小"]),
    ({"q": "014503"}, ["板橋丙國中"]),
    ({"q": "osaka"}, ["板橋丙國中"]),
    ({"status": "negotiating"}, ["板橋丙國中"]),
    ({"country": "US"}, ["淡水甲國小", "淡水乙國小"]),
    ({"level": "junior"}, ["板橋丙國中"]),
    ({"signed_from": "2024-01-01", "signed_to": "2024-12-31"}, ["淡水乙國小"]),
])
def test_list_filters(client, login_as, world, query, expected):
    login_as("official")
    html = client.get("/pairings/", query_string=query).get_data(as_text=True)
    for name in ("淡水甲國小", "淡水乙國小", "板橋丙國中"):
        assert (name in html) == (name in expected), name
    assert f'id="pairing-count">{len(expected)}<' in html


def test_list_filters_by_district_and_partner_city(client, login_as, world):
    login_as("staff")
    html = client.get(f"/pairings/?district={world['banqiao']}").get_data(as_text=True)
    assert "板橋丙國中" in html and "淡水甲國小" not in html
    html = client.get(f"/pairings/?partner_city={world['city']}&sort=-school").get_data(
        as_text=True)
    assert "板橋丙國中" not in html
    assert html.index("淡水乙國小") < html.index("淡水甲國小")  # descending school code
    # The export links carry the filters.
    assert f"partner_city={world['city']}" in html.split("Export CSV")[0]


def test_list_pagination(app, client, login_as, world):
    login_as("staff")
    app.config["PER_PAGE"] = 2
    first = client.get("/pairings/?sort=school").get_data(as_text=True)
    second = client.get("/pairings/?sort=school&page=2").get_data(as_text=True)
    assert "淡水甲國小" in first and "淡水乙國小" in first and "板橋丙國中" not in first
    assert "板橋丙國中" in second and "淡水甲國小" not in second
    assert "3 records, page 2 of 2" in second


def test_list_empty_state(client, login_as, world):
    login_as("staff")
    html = client.get("/pairings/?q=nothing-like-this").get_data(as_text=True)
    assert "No pairing matches these filters." in html
    assert 'id="pairing-count">0<' in html


def test_list_query_count_does_not_grow_with_rows(app, client, login_as, world):
    login_as("staff")
    statements = []

    def counter(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        client.get("/pairings/?status=negotiating")  # one row
        one = len(statements)
        statements.clear()
        client.get("/pairings/")  # three rows
        three = len(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    assert three == one


# ------------------------------------------------------------------ detail


def test_detail_shows_fields_history_and_timeline(app, client, login_as, world):
    with dbs(app) as s:
        p = s.get(Pairing, world["pairing_a"])
        p.focus_areas = "Robotics, English"
        factories.make_activity(s, pairing=p, title="Autumn visit", start_on=date(2024, 10, 2),
                                evidence_url="https://example.org/report")
        s.commit()
    login_as("staff")
    resp = client.get(f"/pairings/{world['pairing_a']}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "淡水甲國小" in html and "Holmdel Elementary" in html and "Robotics, English" in html
    assert "Holmdel, NJ, United States" in html
    assert 'datetime="2023-01-15"' in html  # the activation event
    assert 'class="timeline"' in html
    assert html.index("Autumn visit") < html.index("Spring video call")  # newest first
    assert "https://example.org/report" in html
    assert "pane-history" in html  # staff see the History tab
    assert f"/pairings/{world['pairing_a']}/activities/new" in html
    assert f"/pairings/{world['pairing_a']}/edit" in html


def test_detail_for_official_has_no_buttons_nor_history(client, login_as, world):
    login_as("official")
    html = client.get(f"/pairings/{world['pairing_a']}").get_data(as_text=True)
    assert "Spring video call" in html
    assert "pane-history" not in html
    assert "/edit" not in html and "/delete" not in html and "/activities/new" not in html


def test_detail_404(client, login_as, world):
    login_as("staff")
    assert client.get("/pairings/999999").status_code == 404


def test_history_tab_records_status_change(app, client, login_as, world):
    login_as("staff")
    version = get_pairing(app, world["pairing_b"])["version"]
    resp = client.post(f"/pairings/{world['pairing_b']}/edit", data=form_data(
        school_code="014502", partner_school_id=world["us"], status="suspended",
        signed_on="2024-04-01", effective_on="2024-09-01", version=version))
    assert resp.status_code == 302
    html = client.get(f"/pairings/{world['pairing_b']}").get_data(as_text=True)
    pane = html[html.index('id="pane-history"'):]
    change = pane.split('data-field="status">Status</span>')[1][:80]
    assert "Active (signed)" in change and "Suspended" in change
    assert "Changed" in pane


# ------------------------------------------------------------------ create


def test_new_form_preselects_school_from_query(client, login_as, world):
    login_as("staff")
    resp = client.get(f"/pairings/new?school_id={world['school_b']}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'value="014502"' in html and "淡水乙國小" in html
    assert "Osaka Gakuen (Osaka, " in html
    assert client.get("/pairings/new?school_id=999999").status_code == 404


def test_staff_create_active_pairing(app, client, login_as, world):
    login_as("staff")
    resp = client.post("/pairings/new", data=form_data(
        school_code="014503", partner_school_id=world["us"], status="active",
        signed_on="2024-05-20", start_on="2024-08-01", end_on="2027-07-31",
        focus_areas="Science", coordinator="林老師"))
    assert resp.status_code == 302
    with dbs(app) as s:
        p = s.scalars(sa.select(Pairing).where(Pairing.school_id == world["school_c"],
                                               Pairing.partner_school_id == world["us"])).one()
        assert p.status == PairingStatus.ACTIVE and p.coordinator == "林老師"
        assert [(e.status.value, e.effective_on) for e in p.events] == [
            ("active", date(2024, 5, 20))]
        assert resp.headers["Location"].endswith(f"/pairings/{p.id}")


@pytest.mark.parametrize(("changes", "message"), [
    ({"school_code": "999999"}, "No school has the code 999999"),
    ({"status": "active"}, "An active pairing needs the date it was signed."),
    ({"start_on": "2024-05-01", "end_on": "2024-04-01"},
     "The end or renewal date cannot be before the start date."),
    ({"partner_school_id": "jp_open"}, "already have a pairing that has not ended"),
    ({"status": "ended", "signed_on": "2024-01-01", "ended_on": "2023-01-01"},
     "The pairing cannot end before it was signed."),
    ({"partner_school_id": ""}, "Choose a partner school."),
])
def test_bad_pairing_input_saves_nothing(app, client, login_as, world, changes, message):
    login_as("staff")
    data = form_data(school_code="014503", partner_school_id=world["us"])
    if changes.get("partner_school_id") == "jp_open":  # school C already negotiates with jp
        changes = {"partner_school_id": world["jp"]}
    data.update(changes)
    before = (count(app, Pairing), count(app, PairingEvent))
    resp = client.post("/pairings/new", data=data)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert (count(app, Pairing), count(app, PairingEvent)) == before


# ------------------------------------------------------------------ edit


def test_edit_ends_pairing_and_records_dated_event(app, client, login_as, world):
    login_as("staff")
    resp = client.get(f"/pairings/{world['pairing_a']}/edit")
    assert resp.status_code == 200 and 'value="014501"' in resp.get_data(as_text=True)
    version = get_pairing(app, world["pairing_a"])["version"]
    resp = client.post(f"/pairings/{world['pairing_a']}/edit", data=form_data(
        partner_school_id=world["us"], status="ended", signed_on="2023-01-15",
        ended_on="2024-06-30", notes="Partner school closed its programme", version=version))
    assert resp.status_code == 302
    after = get_pairing(app, world["pairing_a"])
    assert after["status"] == PairingStatus.ENDED and after["ended_on"] == date(2024, 6, 30)
    assert after["events"] == [("active", date(2023, 1, 15)), ("ended", date(2024, 6, 30))]


def test_stale_edit_is_refused_and_record_unchanged(app, client, login_as, world):
    login_as("staff")
    old_version = get_pairing(app, world["pairing_b"])["version"]
    with dbs(app) as s:  # someone else saves first
        s.get(Pairing, world["pairing_b"]).notes = "Saved by a colleague"
        s.commit()
    before = get_pairing(app, world["pairing_b"])
    resp = client.post(f"/pairings/{world['pairing_b']}/edit", data=form_data(
        school_code="014502", partner_school_id=world["us"], status="active",
        signed_on="2024-04-01", notes="My notes", version=old_version))
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "Someone else saved this record" in html
    assert "Saved by a colleague" in html and "My notes" in html
    assert get_pairing(app, world["pairing_b"]) == before
    assert before["notes"] == "Saved by a colleague"


def test_edit_refuses_bad_input(app, client, login_as, world):
    login_as("staff")
    before = get_pairing(app, world["pairing_b"])
    resp = client.post(f"/pairings/{world['pairing_b']}/edit", data=form_data(
        school_code="014502", partner_school_id=world["us"], status="active", signed_on="",
        version=before["version"]))
    assert resp.status_code == 422
    assert "An active pairing needs the date it was signed." in resp.get_data(as_text=True)
    assert get_pairing(app, world["pairing_b"]) == before


# ------------------------------------------------------------------ delete


def test_delete_refused_while_activities_exist(app, client, login_as, world):
    login_as("staff")
    resp = client.get(f"/pairings/{world['pairing_a']}/delete")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "cannot be deleted because 1 activity is recorded" in html
    assert "Ended" in html
    version = get_pairing(app, world["pairing_a"])["version"]
    resp = client.post(f"/pairings/{world['pairing_a']}/delete", data={"version": version})
    assert resp.status_code == 409
    assert get_pairing(app, world["pairing_a"]) is not None


def test_delete_pairing_without_activities(app, client, login_as, world):
    login_as("staff")
    resp = client.get(f"/pairings/{world['pairing_c']}/delete")
    assert resp.status_code == 200 and "cannot be undone" in resp.get_data(as_text=True)
    assert get_pairing(app, world["pairing_c"]) is not None  # nothing deleted by a GET
    version = get_pairing(app, world["pairing_c"])["version"]
    resp = client.post(f"/pairings/{world['pairing_c']}/delete", data={"version": version})
    assert resp.status_code == 302
    assert get_pairing(app, world["pairing_c"]) is None
    assert count(app, Pairing) == 2


def test_delete_with_stale_version_is_refused(app, client, login_as, world):
    login_as("staff")
    resp = client.post(f"/pairings/{world['pairing_c']}/delete", data={"version": "0"})
    assert resp.status_code == 409
    assert get_pairing(app, world["pairing_c"]) is not None


# ------------------------------------------------------------------ roles


def test_principal_proposes_for_own_school_only(app, client, login_as, world):
    with dbs(app) as s:
        school_a = s.get(factories.School, world["school_a"])
    login_as("principal", school=school_a)
    resp = client.get("/pairings/new")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'value="014501"' in html
    assert 'value="active"' not in html and 'value="negotiating"' in html
    assert client.get(f"/pairings/new?school_id={world['school_b']}").status_code == 403

    before = count(app, Pairing)
    # Another school's code in the form: 403, nothing saved.
    resp = client.post("/pairings/new", data=form_data(school_code="014502",
                                                       partner_school_id=world["jp"]))
    assert resp.status_code == 403
    # Status active is not offered to principals.
    resp = client.post("/pairings/new", data=form_data(partner_school_id=world["jp"],
                                                       status="active",
                                                       signed_on="2024-01-01"))
    assert resp.status_code == 422 and "Not a valid choice" in resp.get_data(as_text=True)
    assert count(app, Pairing) == before

    resp = client.post("/pairings/new", data=form_data(partner_school_id=world["jp"],
                                                       status="negotiating"))
    assert resp.status_code == 302
    with dbs(app) as s:
        p = s.scalars(sa.select(Pairing).where(Pairing.school_id == world["school_a"],
                                               Pairing.partner_school_id == world["jp"])).one()
        new_id, version = p.id, p.version
        assert [(e.status.value, e.effective_on) for e in p.events] == [
            ("negotiating", date(2024, 9, 1))]
    # They may edit their proposal, but not make it active, nor move it to another school.
    assert client.get(f"/pairings/{new_id}/edit").status_code == 200
    resp = client.post(f"/pairings/{new_id}/edit", data=form_data(
        partner_school_id=world["jp"], status="active", signed_on="2024-01-01",
        version=version))
    assert resp.status_code == 422
    resp = client.post(f"/pairings/{new_id}/edit", data=form_data(
        school_code="014502", partner_school_id=world["jp"], status="proposed",
        version=version))
    assert resp.status_code == 403
    assert get_pairing(app, new_id)["status"] == PairingStatus.NEGOTIATING
    # An active pairing of their own school, another school's pairing, deletes: staff only.
    assert client.get(f"/pairings/{world['pairing_a']}/edit").status_code == 403
    assert client.get(f"/pairings/{world['pairing_b']}/edit").status_code == 403
    assert client.post(f"/pairings/{world['pairing_c']}/delete",
                       data={"version": "1"}).status_code == 403
    assert get_pairing(app, world["pairing_c"]) is not None


def test_official_gets_403_on_every_post(app, client, login_as, world):
    login_as("official")
    before = (get_pairing(app, world["pairing_a"]), count(app, Pairing))
    posts = [
        ("/pairings/new", form_data(partner_school_id=world["jp"])),
        (f"/pairings/{world['pairing_a']}/edit", form_data(partner_school_id=world["us"],
                                                           status="active",
                                                           signed_on="2023-01-15",
                                                           version="1")),
        (f"/pairings/{world['pairing_c']}/delete", {"version": "1"}),
        (f"/pairings/{world['pairing_a']}/activities/new", {"title": "x",
                                                            "start_on": "2024-01-01"}),
        (f"/pairings/activities/{world['activity']}/edit", {"title": "x", "version": "1"}),
        (f"/pairings/activities/{world['activity']}/delete", {"version": "1"}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    for url in ("/pairings/new", f"/pairings/{world['pairing_a']}/edit"):
        assert client.get(url).status_code == 403, url
    assert (get_pairing(app, world["pairing_a"]), count(app, Pairing)) == before


def test_anonymous_is_sent_to_sign_in(client, world):
    resp = client.get("/pairings/")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_district_filter_names_the_county_across_several(client, login_as, session):
    import re

    from . import factories as fx

    login_as("staff")
    fx.make_district(session, name_zh="東區", name_en="East", county="臺南市")
    fx.make_district(session, name_zh="東區", name_en="East", county="新竹市")
    session.commit()
    for path in ("/pairings/", "/pairings/activities"):
        html = client.get(path).get_data(as_text=True)
        options = re.search(r'<select[^>]*name="district"[^>]*>(.*?)</select>', html,
                            re.S).group(1)
        assert "Tainan City East" in options and "Hsinchu City East" in options, path

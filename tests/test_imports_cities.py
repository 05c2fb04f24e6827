"""Partner cities as an import and export kind: English or Chinese headers, new, changed and
unchanged rows matched on name, country and region, errors by row number, the template, the
list export with the list's filters, and the command line."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from pairing.audit.models import AuditLog
from pairing.extensions import db
from pairing.imports.readers import read_table
from pairing.imports.service import ImportRefused, apply_plan, build_plan
from pairing.partners.models import PartnerCity, PartnerSchool

from . import factories
from . import fixtures_imports as fx
from .test_imports import count_in, preview, upload

ROOT = Path(__file__).resolve().parent.parent

HEADER = ["name", "name_zh", "country", "region", "signed_on", "twinned_on", "notes"]
HEADER_ZH = ["城市名稱", "中譯名稱", "國家", "州省", "簽約日期", "締結姊妹市日期", "備註"]


@pytest.fixture
def app_config():
    """Assert on the English texts (the default locale is zh-TW)."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def world(session):
    saratoga = factories.make_partner_city(session, name="Saratoga", region="California")
    aurora = factories.make_partner_city(session, name="Aurora", name_zh="奧羅拉市",
                                         region="Colorado")
    factories.make_partner_city(session, name="Minato", country="JP", region="Tokyo",
                                signed_on=None)
    session.commit()
    return {"saratoga": saratoga.id, "aurora": aurora.id}


def plan_for(session, data: bytes):
    return build_plan(session, "cities", read_table(data), "cities.csv", jurisdiction="新北市")


def cities(session) -> dict[tuple, tuple]:
    rows = session.execute(sa.select(PartnerCity.name, PartnerCity.country, PartnerCity.region,
                                     PartnerCity.name_zh, PartnerCity.signed_on,
                                     PartnerCity.twinned_on, PartnerCity.notes))
    return {tuple(r[:3]): tuple(r[3:]) for r in rows}


def test_new_changed_and_unchanged_cities_with_chinese_headers(session, world):
    rows = [
        ["Saratoga", "薩拉托加市", "美國", "California", "2023-10-05", "", ""],
        ["Aurora", "奧羅拉市", "US", "Colorado", "2023/10/05", "", ""],
        ["Cupertino", "庫比蒂諾市", "US", "California", "2023-10-05", "2021-01-01",
         "Twin city since 2021."],
        ["Aurora", "", "US", "Illinois", "", "", ""],  # another Aurora: another city
    ]
    last_audit = session.scalar(sa.select(sa.func.max(AuditLog.id)))
    plan = plan_for(session, fx.csv_bytes(HEADER_ZH, rows))
    assert plan.counts == {"new": 2, "changed": 1, "unchanged": 1, "skipped": 0, "invalid": 0}
    (changed,) = plan.by_action("changed")
    assert changed.row == 2 and changed.label == "Saratoga"
    assert changed.changes == {"name_zh": ["", "薩拉托加市"]}
    assert [r.row for r in plan.by_action("new")] == [4, 5]
    apply_plan(session, plan)
    session.commit()

    assert cities(session) == {
        ("Saratoga", "US", "California"): ("薩拉托加市", date(2023, 10, 5), None, None),
        ("Aurora", "US", "Colorado"): ("奧羅拉市", date(2023, 10, 5), None, None),
        ("Minato", "JP", "Tokyo"): (None, None, None, None),
        ("Cupertino", "US", "California"): ("庫比蒂諾市", date(2023, 10, 5), date(2021, 1, 1),
                                            "Twin city since 2021."),
        ("Aurora", "US", "Illinois"): (None, None, None, None),
    }
    entries = session.scalars(sa.select(AuditLog).where(
        AuditLog.entity_type == "partner_city", AuditLog.id > last_audit)).all()
    assert sorted((e.action, e.label) for e in entries) == [
        ("create", "Aurora"), ("create", "Cupertino"), ("update", "Saratoga")]
    (update,) = [e for e in entries if e.action == "update"]
    assert update.entity_id == world["saratoga"]
    assert update.changes == {"name_zh": [None, "薩拉托加市"]}
    (entry,) = session.scalars(sa.select(AuditLog).where(AuditLog.action == "import")).all()
    assert entry.changes == {"kind": "cities", "format": "template", "new": 2, "changed": 1,
                             "unchanged": 1, "skipped": 0, "invalid": 0}

    again = plan_for(session, fx.csv_bytes(HEADER_ZH, rows))
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 4, "skipped": 0,
                            "invalid": 0}


def test_errors_are_reported_by_row_and_nothing_is_imported(session, world):
    before = cities(session)
    rows = [
        ["", "無名", "US", "", "", "", ""],
        ["Atlantis", "", "Neverland", "", "", "", ""],
        ["Holmdel", "", "US", "New Jersey", "2023-13-40", "", ""],
        ["Cupertino", "", "US", "California", "", "", ""],
        ["cupertino", "", "us", "CALIFORNIA", "", "", ""],
    ]
    plan = plan_for(session, fx.csv_bytes(HEADER, rows))
    assert plan.counts == {"new": 1, "changed": 0, "unchanged": 0, "skipped": 0, "invalid": 4}
    errors = sorted((e.row, e.column, e.value, e.reason) for e in plan.errors)
    assert errors[0] == (2, "name", None, "Required.")
    assert errors[1][:3] == (3, "country", "Neverland")
    assert errors[1][3].startswith("Unknown country")
    assert errors[2] == (4, "signed_on", "2023-13-40", "Not a date; write it as YYYY-MM-DD.")
    assert errors[3] == (6, "name", "cupertino", "Duplicate of row 5 in this file.")
    with pytest.raises(ImportRefused, match="4 rows are invalid; nothing was imported."):
        apply_plan(session, plan)
    session.rollback()
    assert cities(session) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "import")) == 0


def test_the_reference_data_file_imports_and_partner_schools_then_find_their_city(session):
    data = (ROOT / "data" / "partner_cities.csv").read_bytes()
    plan = plan_for(session, data)
    assert plan.counts["new"] == 5 and plan.counts["invalid"] == 0
    apply_plan(session, plan)
    session.commit()
    cupertino = session.scalar(sa.select(PartnerCity).where(PartnerCity.name == "Cupertino"))
    assert cupertino.name_zh == "庫比蒂諾市" and cupertino.twinned_on == date(2021, 1, 1)
    assert plan_for(session, data).counts["unchanged"] == 5

    partners = build_plan(session, "partners", read_table(fx.csv_bytes(
        ["name", "country", "city", "primary", "partner_city"],
        [["Monta Vista High School", "US", "Cupertino", "no", "庫比蒂諾市"]])), "p.csv",
        jurisdiction="新北市")
    assert partners.counts["new"] == 1
    apply_plan(session, partners)
    session.commit()
    school = session.scalar(sa.select(PartnerSchool))
    assert school.partner_city_id == cupertino.id


def test_web_import_with_two_mistakes_then_fixed(app, client, login_as):
    login_as("staff")
    rows = [["Saratoga", "薩拉托加市", "US", "California", "2023-10-05", "", ""],
            ["Cupertino", "", "Californië", "California", "", "", ""],
            ["Holmdel", "", "US", "New Jersey", "", "05/10/2023", ""]]
    data = fx.xlsx_bytes(HEADER_ZH, rows, title="夥伴城市", code_as_text=False)
    token, html = preview(client, upload(client, data, "夥伴城市.xlsx", kind="cities"))
    assert count_in(html, "invalid") == 2 and count_in(html, "new") == 1
    assert "<td>3</td><td>國家</td><td>Californië</td><td>Unknown country" in html
    assert ("<td>4</td><td>締結姊妹市日期</td><td>05/10/2023</td><td>Not a date; write it as "
            "YYYY-MM-DD.</td>") in html
    client.post("/imports/confirm", data={"token": token})
    with app.app_context():
        assert cities(db.session) == {}

    rows[1][2] = "US"
    rows[2][5] = "2023-10-05"
    data = fx.xlsx_bytes(HEADER_ZH, rows, title="夥伴城市", code_as_text=False)
    token, html = preview(client, upload(client, data, "夥伴城市.xlsx", kind="cities"))
    assert count_in(html, "new") == 3 and count_in(html, "invalid") == 0
    assert client.post("/imports/confirm", data={"token": token}).status_code == 302
    with app.app_context():
        assert sorted(k[0] for k in cities(db.session)) == ["Cupertino", "Holmdel", "Saratoga"]


def _csv_rows(resp) -> list[list[str]]:
    assert resp.status_code == 200
    assert resp.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def test_city_list_exports_with_its_filters(app, client, login_as, world):
    login_as("official")
    page = client.get("/partners/cities?country=US&q=a&page=1")
    links = re.findall(r'href="(/imports/export/cities\?[^"]+)"', page.get_data(as_text=True))
    assert len(links) == 2
    for link in links:
        query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
        assert query["country"] == ["US"] and query["q"] == ["a"] and "page" not in query
        assert query["format"][0] in ("csv", "xlsx")

    rows = _csv_rows(client.get("/imports/export/cities?format=csv"))
    assert rows[0] == HEADER
    assert rows[1:] == [
        ["Aurora", "奧羅拉市", "US", "Colorado", "2023-10-05", "", ""],
        ["Minato", "", "JP", "Tokyo", "", "", ""],
        ["Saratoga", "", "US", "California", "2023-10-05", "", ""],
    ]
    rows = _csv_rows(client.get("/imports/export/cities?format=csv&country=JP"))
    assert [r[0] for r in rows[1:]] == ["Minato"]
    resp = client.get("/imports/export/cities?format=xlsx&country=US")
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert ws.title == "cities"
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == ["Aurora", "Saratoga"]


def test_city_export_headers_follow_the_readers_language(app, client, login_as, world):
    login_as("official")
    client.set_cookie("lang", "zh_TW")
    rows = _csv_rows(client.get("/imports/export/cities?format=csv&q=sara"))
    assert rows == [HEADER_ZH, ["Saratoga", "", "US", "California", "2023-10-05", "", ""]]


def test_cli_imports_and_exports_cities(app, runner, tmp_path):
    path = tmp_path / "cities.csv"
    path.write_bytes((ROOT / "data" / "partner_cities.csv").read_bytes())
    result = runner.invoke(args=["import", "cities", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported: 5 new, 0 changed." in result.output
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["export", str(out), "--kind", "cities", "--headers", "en"])
    assert result.exit_code == 0 and "cities: 5" in result.output
    result = runner.invoke(args=["import", "cities", str(out), "--dry-run"])
    assert "new: 0, changed: 0, unchanged: 5" in result.output

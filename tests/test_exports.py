"""Exports: CSV with a BOM, XLSX, the list filters, formula neutralisation, who may export,
and the full workbook's round trip (re-importing it changes nothing)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from pairing.audit.models import AuditLog
from pairing.common.enums import ActivityMode, ActivityType, PairingStatus
from pairing.extensions import db
from pairing.imports.export import full_workbook, neutralise
from pairing.imports.readers import read_table
from pairing.imports.service import apply_plan, build_plan
from pairing.imports.specs import KINDS, SHEET_NAMES
from pairing.pairings.models import Activity, Pairing, PairingEvent
from pairing.partners.models import PartnerCity, PartnerSchool
from pairing.schools.models import School

from . import factories


@pytest.fixture
def app_config():
    """Assert on the English texts (the default locale is zh-TW)."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _world(session) -> dict:
    tamsui = factories.make_district(session, name_zh="淡水區", name_en="Tamsui District")
    banqiao = factories.make_district(session, name_zh="板橋區", name_en="Banqiao District")
    a = factories.make_school(session, code="014501", district=tamsui, name_zh="市立淡水國小",
                              name_en="=HYPERLINK(\"http://evil\")", phone="+886-2-2621-2064",
                              address="新北市淡水區中山路1號", enrolment=850)
    b = factories.make_school(session, code="01A402", district=banqiao,
                              name_zh="私立康橋實驗高中", levels=("primary", "junior", "senior"),
                              is_public=False, closed_on=date(2025, 7, 31))
    c = factories.make_school(session, code="014301", district=banqiao, name_zh="市立板橋國中",
                              levels=("junior",), principal_email="head@example.org")
    city = factories.make_partner_city(session, name="Holmdel", region="New Jersey")
    holmdel = factories.make_partner_school(session, name="Holmdel High School",
                                            partner_city=city, website="https://hhs.example")
    tokyo = factories.make_partner_school(session, name="-Minato- Junior High", country="JP",
                                          city="Minato", region="Tokyo")
    active = factories.make_pairing(session, school=a, partner=holmdel,
                                    signed_on=date(2024, 3, 1), coordinator="@lin")
    factories.make_pairing(session, school=b, partner=tokyo, status=PairingStatus.ENDED,
                           signed_on=date(2021, 1, 10), ended_on=date(2023, 6, 30),
                           notes="Ended by mutual agreement;\nsee the letter.")
    factories.make_pairing(session, school=c, partner=holmdel, status=PairingStatus.PROPOSED)
    # An earlier pairing of the same two schools, ended, with an activity of its own.
    earlier = factories.make_pairing(session, school=a, partner=holmdel,
                                     status=PairingStatus.ENDED, signed_on=date(2019, 9, 1),
                                     ended_on=date(2022, 6, 30))
    factories.make_activity(session, pairing=earlier, title="Visit", start_on=date(2020, 5, 1))
    factories.make_activity(session, pairing=active, title="=1+1 cultural exchange",
                            start_on=date(2024, 5, 1), local_students=25, partner_students=20)
    factories.make_activity(session, pairing=active, title="Visit", start_on=date(2024, 10, 1),
                            end_on=date(2024, 10, 8), type=ActivityType.OUTBOUND,
                            mode=ActivityMode.IN_PERSON, description="\tTab first")
    session.commit()
    return {"a": a.id}


def test_neutralise():
    for text in ("=1+1", "+886", "-3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("市立淡水國小") == "市立淡水國小"
    assert neutralise(-3) == -3  # numbers are not formulas


def test_school_list_as_csv_with_bom_and_neutralised_cells(app, client, login_as):
    with app.app_context():
        _world(db.session)
    login_as("official")  # officials may export lists
    client.set_cookie("lang", "zh_TW")  # headers in the reader's language
    resp = client.get("/imports/export/schools?format=csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["學校代碼", "學校名稱", "英文校名", "縣市", "行政區"]
    by_code = {r[0]: r for r in rows[1:]}
    assert set(by_code) == {"014501", "01A402", "014301"}
    assert by_code["014501"][1] == "市立淡水國小"
    assert by_code["014501"][2] == "'=HYPERLINK(\"http://evil\")"
    assert by_code["014501"][10] == "'+886-2-2621-2064"
    assert by_code["01A402"][5:9] == ["yes", "yes", "yes", "no"]
    assert by_code["01A402"][15] == "2025-07-31"


def test_list_filters_apply_to_the_export(app, client, login_as):
    with app.app_context():
        _world(db.session)
    login_as("principal")
    resp = client.get("/imports/export/schools?format=csv&level=junior")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert sorted(r[0] for r in rows[1:]) == ["014301", "01A402"]
    resp = client.get("/imports/export/schools?format=csv&q=淡水")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["014501"]


def test_lists_as_xlsx(app, client, login_as):
    with app.app_context():
        _world(db.session)
    login_as("official")
    for kind, n in (("cities", 1), ("schools", 3), ("partners", 2), ("pairings", 4),
                    ("activities", 3)):
        resp = client.get(f"/imports/export/{kind}?format=xlsx")
        assert resp.status_code == 200
        ws = load_workbook(io.BytesIO(resp.data)).active
        assert ws.title == SHEET_NAMES[kind][0]
        assert ws.max_row == n + 1
    resp = client.get("/imports/export/activities?format=xlsx")
    values = [c for row in load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True)
              for c in row]
    assert "'=1+1 cultural exchange" in values
    assert "'\tTab first" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)


def test_who_may_export(app, client, login_as):
    assert client.get("/imports/export/schools?format=csv").status_code == 302  # anonymous
    login_as("official")
    assert client.get("/imports/export/users?format=csv").status_code == 404
    assert client.get("/imports/export/schools?format=pdf").status_code == 400
    assert client.get("/imports/export-all.xlsx").status_code == 403


def test_full_export_round_trip_changes_nothing(app, client, login_as):
    with app.app_context():
        _world(db.session)
    login_as("staff")
    with app.app_context():
        audit_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    resp = client.get("/imports/export-all.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == [SHEET_NAMES[k][0] for k in KINDS]
    with app.app_context():
        for kind in KINDS:
            table = read_table(resp.data, sheet_names=SHEET_NAMES[kind])
            plan = build_plan(db.session, kind, table, "export.xlsx", jurisdiction="新北市")
            expected = {"cities": 1, "schools": 3, "partners": 2, "pairings": 4,
                        "activities": 3}[kind]
            assert plan.counts["unchanged"] == expected, (kind, [
                (r.row, r.action, r.changes, [e.reason for e in r.errors]) for r in plan.rows])
            assert plan.counts["new"] == plan.counts["changed"] == plan.counts["invalid"] == 0
        # The English-header workbook round-trips too.
        body, counts = full_workbook(db.session, "en")
        assert counts == {"cities": 1, "schools": 3, "partners": 2, "pairings": 4,
                          "activities": 3}
        for kind in KINDS:
            plan = build_plan(db.session, kind, read_table(body, sheet_names=(kind,)),
                              "export.xlsx", jurisdiction="新北市")
            assert plan.counts["unchanged"] == counts[kind]
            apply_plan(db.session, plan)
        db.session.commit()
        # Only the five import entries were added: no record changed.
        audit_after = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
        assert audit_after == audit_before + 5


def _sheets(body: bytes) -> dict[str, list[tuple]]:
    return {ws.title: list(ws.iter_rows(values_only=True))
            for ws in load_workbook(io.BytesIO(body)).worksheets}


def test_full_workbook_restores_an_emptied_database(app):
    """Every record type, partner cities included, comes back from the workbook alone
    (districts are reference data and stay), and exports again cell for cell the same."""
    with app.app_context():
        _world(db.session)
        body, counts = full_workbook(db.session, "zh")
        before = _sheets(body)
        assert list(before) == [SHEET_NAMES[k][0] for k in KINDS]
        assert before["cities"][1] == ("Holmdel", None, "US", "New Jersey",
                                       datetime(2023, 10, 5), None, None)
        for model in (Activity, PairingEvent, Pairing, PartnerSchool, PartnerCity, School):
            db.session.execute(sa.delete(model))
        db.session.commit()
        for kind in KINDS:
            plan = build_plan(db.session, kind, read_table(body, sheet_names=SHEET_NAMES[kind]),
                              "export.xlsx", jurisdiction="新北市")
            assert plan.counts["new"] == counts[kind], (kind, [
                (r.row, r.action, [e.reason for e in r.errors]) for r in plan.rows])
            assert plan.counts["invalid"] == 0
            apply_plan(db.session, plan)
            db.session.commit()
        holmdel = db.session.scalar(sa.select(PartnerSchool).where(
            PartnerSchool.name == "Holmdel High School"))
        assert holmdel.partner_city.name == "Holmdel"
        again, counts_again = full_workbook(db.session, "zh")
        assert counts_again == counts
        assert _sheets(again) == before


@pytest.mark.parametrize("kind", KINDS)
def test_csv_export_round_trips(app, client, login_as, kind):
    with app.app_context():
        _world(db.session)
    login_as("staff")
    resp = client.get(f"/imports/export/{kind}?format=csv")
    with app.app_context():
        table = read_table(resp.data)
        assert table.encoding == "UTF-8 (BOM)"
        plan = build_plan(db.session, kind, table, "x.csv", jurisdiction="新北市")
        assert plan.counts["new"] == plan.counts["changed"] == plan.counts["invalid"] == 0, [
            (r.row, r.changes, [e.reason for e in r.errors]) for r in plan.rows]

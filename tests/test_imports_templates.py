"""The department's own spreadsheets: schools, partner schools, pairings and activities, with
English or Chinese headers; the XLSX templates."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from pairing.audit.models import AuditLog
from pairing.common.enums import PairingStatus
from pairing.extensions import db
from pairing.imports.readers import read_table
from pairing.imports.service import ImportRefused, apply_plan, build_plan
from pairing.pairings.models import Activity, Pairing, PairingEvent
from pairing.partners.models import PartnerSchool
from pairing.schools.models import School

from . import factories
from . import fixtures_imports as fx
from .test_imports import count_in, preview, upload


@pytest.fixture
def app_config():
    """Assert on the English texts (the default locale is zh-TW)."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


def plan_for(session, kind, data, jurisdiction="新北市"):
    return build_plan(session, kind, read_table(data), f"{kind}.csv", jurisdiction=jurisdiction)


def run(session, kind, data, only_valid=False):
    plan = plan_for(session, kind, data)
    counts = apply_plan(session, plan, only_valid=only_valid)
    session.commit()
    return plan, counts


@pytest.fixture
def world(session):
    district = factories.make_district(session, name_zh="淡水區", name_en="Tamsui District")
    a = factories.make_school(session, code="014501", district=district, name_zh="市立淡水國小")
    b = factories.make_school(session, code="014502", district=district, name_zh="市立天生國小")
    factories.make_partner_city(session, name="Holmdel", region="New Jersey")
    factories.make_partner_city(session, name="Saratoga", region="California")
    session.commit()
    return {"district": district.id, "a": a.id, "b": b.id}


def _count(session, model):
    return session.scalar(sa.select(sa.func.count()).select_from(model))


# -- partner schools --------------------------------------------------------------------------

def test_partner_schools_import_and_reimport_changes_nothing(session, world):
    data = fx.csv_bytes(fx.PARTNER_HEADER, fx.PARTNER_ROWS)
    plan, counts = run(session, "partners", data)
    assert counts["new"] == 3 and counts["invalid"] == 0
    holmdel = session.scalar(sa.select(PartnerSchool).where(
        PartnerSchool.name == "Holmdel High School"))
    assert holmdel.levels == ["senior"] and holmdel.partner_city.name == "Holmdel"
    saratoga = session.scalar(sa.select(PartnerSchool).where(
        PartnerSchool.name == "Saratoga Elementary"))
    assert saratoga.country == "US"  # 美國 read as a country name
    tokyo = session.scalar(sa.select(PartnerSchool).where(PartnerSchool.country == "JP"))
    assert tokyo.partner_city_id is None and tokyo.city == "Minato"

    plan = plan_for(session, "partners", data)
    assert plan.counts["unchanged"] == 3 and plan.counts["new"] == 0


def test_partner_school_errors(session, world):
    rows = [["Holmdel High School", "Neverland", "", "Holmdel", "no", "no", "maybe", "Gotham"]]
    plan = plan_for(session, "partners", fx.csv_bytes(fx.PARTNER_HEADER, rows))
    reasons = {(e.row, e.column): e.reason for e in plan.errors}
    assert reasons[(2, "country")].startswith("Unknown country")
    assert reasons[(2, "senior")] == "Write yes or no."
    assert reasons[(2, "partner_city")] == "Unknown partner city."
    with pytest.raises(ImportRefused):
        apply_plan(session, plan)
    session.rollback()
    assert _count(session, PartnerSchool) == 0


# -- schools (template) -------------------------------------------------------------------------

def test_schools_template_with_chinese_headers(session, world):
    rows = [
        ["014501", "市立淡水國小", "Tamsui Elementary", "新北市", "淡水區", "是", "否", "否", "是",
         "新北市淡水區中山路1號", "+886-2-2621-2064"],
        ["014503", "市立新興國小", "", "", "淡水區", "yes", "", "", "no", "", ""],
        ["014504", "市立無區國小", "", "新北市", "火星區", "yes", "", "", "yes", "", ""],
        ["014505", "市立無級國小", "", "新北市", "淡水區", "no", "no", "no", "yes", "", ""],
        ["353601", "市立國語實小", "", "臺北市", "中正區", "yes", "", "", "yes", "", ""],
    ]
    plan = plan_for(session, "schools", fx.csv_bytes(fx.SCHOOL_HEADER_ZH, rows))
    assert plan.format == "template"
    assert plan.counts == {"new": 1, "changed": 1, "unchanged": 0, "skipped": 1, "invalid": 2}
    errors = {e.row: (e.column, e.value, e.reason) for e in plan.errors}
    assert errors[4] == ("行政區", "火星區", "Unknown district in 新北市.")
    assert errors[5][2] == "A school serves at least one level (primary, junior or senior)."
    changed = plan.by_action("changed")[0]
    assert changed.row == 2
    assert changed.changes["name_en"][1] == "Tamsui Elementary"
    assert changed.changes["phone"] == ["", "+886-2-2621-2064"]
    apply_plan(session, plan, only_valid=True)
    session.commit()
    new = session.scalar(sa.select(School).where(School.code == "014503"))
    assert new.district_id == world["district"] and new.levels == ["primary"]
    assert new.is_public is False
    old = session.get(School, world["a"])
    assert old.phone == "+886-2-2621-2064" and old.name_en == "Tamsui Elementary"


def test_unknown_and_missing_columns(session, world):
    from pairing.imports.readers import FileProblem

    with pytest.raises(FileProblem, match="Unknown columns: colour"):
        plan_for(session, "schools", fx.csv_bytes(["code", "name_zh", "district", "colour"],
                                                  [["014501", "x", "淡水區", "red"]]))
    with pytest.raises(FileProblem, match=r"Missing required columns: 行政區 \(district\)"):
        plan_for(session, "schools", fx.csv_bytes(["code", "name_zh"], [["014501", "x"]]))
    with pytest.raises(FileProblem, match="appears twice"):
        plan_for(session, "schools", fx.csv_bytes(["code", "學校代碼", "name_zh", "district"],
                                                  [["014501", "014501", "x", "淡水區"]]))


# -- pairings -----------------------------------------------------------------------------------

def _partners(session):
    run(session, "partners", fx.csv_bytes(fx.PARTNER_HEADER, fx.PARTNER_ROWS))


PAIRING_ROWS_WITH_TWO_MISTAKES = [
    ["014501", "Holmdel High School", "US", "Holmdel", "active", "2024-03-01", "2024-03-01", ""],
    ["019999", "Saratoga Elementary", "US", "Saratoga", "active", "2024-04-01", "", ""],
    ["014502", "Tokyo Minato Junior High", "", "", "active", "", "", ""],
    ["014502", "Saratoga Elementary", "", "", "ended", "2022-01-10", "", "2023/06/30"],
]


def test_pairings_with_two_mistakes_then_fixed(app, client, login_as, world):
    with app.app_context():
        _partners(db.session)
    login_as("staff")
    data = fx.xlsx_bytes(fx.PAIRING_HEADER_ZH, PAIRING_ROWS_WITH_TWO_MISTAKES, title="pairings")
    token, html = preview(client, upload(client, data, "締結.xlsx", kind="pairings"))
    assert count_in(html, "invalid") == 2 and count_in(html, "new") == 2
    assert "<td>3</td><td>學校代碼</td><td>019999</td><td>No school with this code.</td>" in html
    assert ("<td>4</td><td>簽約日期</td><td></td><td>An active or suspended "
            "pairing needs its signing date.</td>") in html
    client.post("/imports/confirm", data={"token": token})
    with app.app_context():
        assert _count(db.session, Pairing) == 0

    fixed = [list(r) for r in PAIRING_ROWS_WITH_TWO_MISTAKES]
    fixed[1][0] = "014501"
    fixed[2][5] = "2024-05-20"
    data = fx.xlsx_bytes(fx.PAIRING_HEADER_ZH, fixed, title="pairings")
    token, html = preview(client, upload(client, data, "締結.xlsx", kind="pairings"))
    assert count_in(html, "invalid") == 0 and count_in(html, "new") == 4
    assert client.post("/imports/confirm", data={"token": token}).status_code == 302
    with app.app_context():
        pairings = db.session.scalars(sa.select(Pairing).order_by(Pairing.id)).all()
        assert [p.status for p in pairings] == [PairingStatus.ACTIVE] * 3 + [PairingStatus.ENDED]
        events = {p.id: [(e.status.value, e.effective_on) for e in p.events] for p in pairings}
        assert events[pairings[0].id] == [("active", date(2024, 3, 1))]
        assert events[pairings[3].id] == [("active", date(2022, 1, 10)),
                                          ("ended", date(2023, 6, 30))]
        assert pairings[3].ended_on == date(2023, 6, 30)
        entries = db.session.scalars(sa.select(AuditLog).where(
            AuditLog.action == "import", AuditLog.label == "締結.xlsx")).all()
        assert [(e.changes["kind"], e.changes["new"]) for e in entries] == [("pairings", 4)]

    # Same file again: nothing changes.
    token, html = preview(client, upload(client, data, "締結.xlsx", kind="pairings"))
    assert count_in(html, "unchanged") == 4


def test_pairing_status_change_writes_an_event(session, world):
    _partners(session)
    header = ["school_code", "partner_name", "status", "start_on"]
    run(session, "pairings", fx.csv_bytes(header, [["014501", "Holmdel High School",
                                                    "proposed", "2024-01-05"]]))
    pairing = session.scalar(sa.select(Pairing))
    assert [(e.status.value, e.effective_on) for e in pairing.events] == \
        [("proposed", date(2024, 1, 5))]
    header = ["school_code", "partner_name", "status", "signed_on"]
    plan, counts = run(session, "pairings", fx.csv_bytes(
        header, [["014501", "Holmdel High School", "Active (signed)", "2024-09-01"]]))
    assert counts["changed"] == 1
    assert plan.rows[0].changes["status"] == ["proposed", "active"]
    session.expire_all()
    pairing = session.scalar(sa.select(Pairing))
    assert pairing.status == PairingStatus.ACTIVE
    assert [(e.status.value, e.effective_on) for e in pairing.events] == \
        [("proposed", date(2024, 1, 5)), ("active", date(2024, 9, 1))]
    assert _count(session, PairingEvent) == 2


def test_duplicate_pairing_in_the_file(session, world):
    _partners(session)
    header = ["school_code", "partner_name", "status"]
    rows = [["014501", "Holmdel High School", "proposed"],
            ["14501", "holmdel high school", "negotiating"]]
    plan = plan_for(session, "pairings", fx.csv_bytes(header, rows))
    assert [(e.row, e.reason) for e in plan.errors] == [(3, "Duplicate of row 2 in this file.")]


# -- activities ---------------------------------------------------------------------------------

def test_activities_import_is_idempotent(session, world):
    _partners(session)
    school = session.get(School, world["a"])
    partner = session.scalar(sa.select(PartnerSchool).where(
        PartnerSchool.name == "Holmdel High School"))
    factories.make_pairing(session, school=school, partner=partner)
    session.commit()
    rows = [
        ["014501", "Holmdel High School", "US", "Holmdel", "Online cultural exchange",
         "virtual_exchange", "virtual", "2024-05-01", "", "25", "20"],
        ["014501", "Holmdel High School", "US", "Holmdel", "Visit to Holmdel",
         "Outbound visit", "in_person", "2024-10-01", "2024-10-08", "12", ""],
        ["014502", "Holmdel High School", "US", "Holmdel", "No pairing", "other", "virtual",
         "2024-05-01", "", "", ""],
        ["014501", "Holmdel High School", "US", "Holmdel", "Backwards", "other", "virtual",
         "2024-05-01", "2024-04-01", "-3", ""],
    ]
    data = fx.csv_bytes(fx.ACTIVITY_HEADER, rows)
    plan = plan_for(session, "activities", data)
    assert plan.counts["new"] == 2 and plan.counts["invalid"] == 2
    reasons = sorted((e.row, e.column, e.reason) for e in plan.errors)
    assert reasons == [
        (4, "partner_name", "This school has no pairing with this partner school; import the "
                            "pairing first."),
        (5, "end_on", "Ends before it starts."),
        (5, "local_students", "Cannot be negative."),
    ]
    apply_plan(session, plan, only_valid=True)
    session.commit()
    visit = session.scalar(sa.select(Activity).where(Activity.title == "Visit to Holmdel"))
    assert visit.type.value == "outbound_visit" and visit.local_students == 12
    assert visit.end_on == date(2024, 10, 8) and visit.partner_students == 0
    plan = plan_for(session, "activities", fx.csv_bytes(fx.ACTIVITY_HEADER, rows[:2]))
    assert plan.counts == {"new": 0, "changed": 0, "unchanged": 2, "skipped": 0, "invalid": 0}


# -- templates ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,validations", [("cities", 0), ("schools", 4), ("partners", 3),
                                              ("pairings", 1), ("activities", 2)])
def test_template_download(app, client, login_as, kind, validations):
    login_as("staff")
    resp = client.get(f"/imports/template/{kind}.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb.active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2  # header and one example
    assert len(ws.data_validations.dataValidation) == validations
    from pairing.imports.specs import COLUMNS

    assert list(rows[0]) == [c.key for c in COLUMNS[kind]]  # English UI: English headers
    # The template's own example imports (as a plan) without unknown columns.
    with app.app_context():
        plan = build_plan(db.session, kind, read_table(resp.data), "t.xlsx",
                          jurisdiction="新北市")
        assert len(plan.rows) == 1


def test_a_new_pairing_after_an_ended_one_is_a_new_record(session, world):
    _partners(session)
    header = ["school_code", "partner_name", "status", "signed_on", "ended_on"]
    rows = [["014501", "Holmdel High School", "ended", "2019-09-01", "2022-06-30"],
            ["014501", "Holmdel High School", "active", "2024-09-01", ""]]
    plan, counts = run(session, "pairings", fx.csv_bytes(header, rows))
    assert counts["new"] == 2
    pairings = session.scalars(sa.select(Pairing).order_by(Pairing.signed_on)).all()
    assert [(p.status.value, p.signed_on) for p in pairings] == [
        ("ended", date(2019, 9, 1)), ("active", date(2024, 9, 1))]
    plan = plan_for(session, "pairings", fx.csv_bytes(header, rows))
    assert plan.counts["unchanged"] == 2
    # Two open pairings of the same schools in one file are a duplicate.
    rows.append(["014501", "Holmdel High School", "proposed", "", ""])
    plan = plan_for(session, "pairings", fx.csv_bytes(header, rows))
    assert [(e.row, e.reason) for e in plan.errors] == [(4, "Duplicate of row 3 in this file.")]

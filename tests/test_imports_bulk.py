"""Activities import in bulk: new rows go in with Core inserts (each with its 'create' audit
row, written in bulk too), changed rows through the ORM, in one transaction; the values, the
audit trail, idempotence and the dashboards' data version are the same as one row at a time."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from pairing.audit.models import AuditLog
from pairing.audit.tracking import actor_override
from pairing.common import dataversion
from pairing.extensions import db
from pairing.imports import readers, service
from pairing.imports.readers import read_table
from pairing.imports.service import ImportRefused, apply_plan, build_plan
from pairing.pairings.models import Activity

from . import factories
from . import fixtures_imports as fx
from .test_imports import count_in, preview, upload


@pytest.fixture
def app_config():
    """Assert on the English texts (the default locale is zh-TW)."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


HEADER = ["school_code", "partner_name", "partner_country", "partner_city", "title", "type",
          "mode", "start_on", "end_on", "local_students", "local_teachers", "partner_students",
          "partner_teachers", "description", "evidence_url"]
ROWS = [
    ["014501", "Holmdel High School", "US", "Holmdel", "Online cultural exchange",
     "virtual_exchange", "virtual", "2024-05-01", "", "25", "2", "20", "1", "", ""],
    ["014501", "Holmdel High School", "US", "Holmdel", "Visit to Holmdel", "Outbound visit",
     "in_person", "2024-10-01", "2024-10-08", "12", "", "", "", "Ten days in New Jersey",
     "https://example.org/visit"],
    ["014502", "Saratoga Elementary", "US", "Saratoga", "Science fair", "joint_project",
     "hybrid", "2025-02-03", "2025-02-03", "", "", "", "", "", "example.org/fair"],
]


@pytest.fixture
def world(session):
    district = factories.make_district(session, name_zh="淡水區", name_en="Tamsui District")
    a = factories.make_school(session, code="014501", district=district)
    b = factories.make_school(session, code="014502", district=district)
    holmdel = factories.make_partner_school(session, name="Holmdel High School", city="Holmdel")
    saratoga = factories.make_partner_school(session, name="Saratoga Elementary",
                                             city="Saratoga", region="California")
    first = factories.make_pairing(session, school=a, partner=holmdel)
    second = factories.make_pairing(session, school=b, partner=saratoga)
    session.commit()
    return {"first": first.id, "second": second.id}


def plan_for(session, rows, header=HEADER, name="activities.csv"):
    return build_plan(session, "activities", read_table(fx.csv_bytes(header, rows)), name,
                      jurisdiction="新北市")


def run(session, rows, only_valid=False):
    plan = plan_for(session, rows)
    counts = apply_plan(session, plan, only_valid=only_valid)
    session.commit()
    return plan, counts


def stored(session) -> dict[str, tuple]:
    rows = session.execute(sa.select(
        Activity.title, Activity.pairing_id, Activity.type, Activity.mode, Activity.start_on,
        Activity.end_on, Activity.local_students, Activity.local_teachers,
        Activity.partner_students, Activity.partner_teachers, Activity.description,
        Activity.evidence_url, Activity.version))
    return {r[0]: tuple(v.value if hasattr(v, "value") else v for v in r[1:]) for r in rows}


def audit(session, action: str, entity_type: str | None = "activity") -> list[AuditLog]:
    stmt = sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
    if entity_type:
        stmt = stmt.where(AuditLog.entity_type == entity_type)
    return list(session.scalars(stmt))


def test_new_activities_are_inserted_with_the_files_values_and_audited(session, world):
    token = actor_override.set((None, "cli import activities"))
    try:
        plan, counts = run(session, ROWS)
    finally:
        actor_override.reset(token)
    assert counts == {"new": 3, "changed": 0, "unchanged": 0, "skipped": 0, "invalid": 0}
    first, second = world["first"], world["second"]
    assert stored(session) == {
        "Online cultural exchange": (first, "virtual_exchange", "virtual", date(2024, 5, 1),
                                     None, 25, 2, 20, 1, None, None, 1),
        "Visit to Holmdel": (first, "outbound_visit", "in_person", date(2024, 10, 1),
                             date(2024, 10, 8), 12, 0, 0, 0, "Ten days in New Jersey",
                             "https://example.org/visit", 1),
        "Science fair": (second, "joint_project", "hybrid", date(2025, 2, 3), date(2025, 2, 3),
                         0, 0, 0, 0, None, "https://example.org/fair", 1),
    }
    assert session.scalar(sa.select(sa.func.count()).select_from(Activity).where(
        Activity.created_at.is_(None))) == 0

    # One 'create' row per activity, as the flush hook writes for one created in a form.
    ids = dict(session.execute(sa.select(Activity.title, Activity.id)).all())
    creates = audit(session, "create")
    assert sorted((e.entity_id, e.label) for e in creates) == sorted(
        (ids[t], t) for t in ("Online cultural exchange", "Visit to Holmdel", "Science fair"))
    visit = next(e for e in creates if e.label == "Visit to Holmdel")
    assert visit.user_email == "cli import activities"
    assert visit.changes == {
        "pairing_id": first, "title": "Visit to Holmdel", "type": "outbound_visit",
        "mode": "in_person", "start_on": "2024-10-01", "end_on": "2024-10-08",
        "local_students": 12, "local_teachers": 0, "partner_students": 0,
        "partner_teachers": 0, "description": "Ten days in New Jersey",
        "evidence_url": "https://example.org/visit"}
    factories.make_activity(session, pairing=session.get(Activity, ids["Visit to Holmdel"])
                            .pairing, title="Typed in", end_on=date(2024, 3, 2),
                            description="x", evidence_url="https://example.org/x")
    session.commit()
    typed = audit(session, "create")[-1]
    assert typed.label == "Typed in" and set(typed.changes) == set(visit.changes)

    (entry,) = audit(session, "import", None)
    assert entry.label == "activities.csv" and entry.user_email == "cli import activities"
    assert entry.changes == {"kind": "activities", "format": "template", "new": 3,
                             "changed": 0, "unchanged": 0, "skipped": 0, "invalid": 0}


def test_chunks_keep_each_audit_row_with_its_activity(session, world, monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 2)
    rows = [[*ROWS[0][:4], f"Exchange {i}", *ROWS[0][5:7], f"2024-05-{i + 1:02d}",
             "", str(i), "", "", "", "", ""] for i in range(7)]
    plan, counts = run(session, rows)
    assert counts["new"] == 7
    by_id = {a.id: (a.title, a.local_students) for a in session.scalars(sa.select(Activity))}
    assert sorted(by_id.values()) == [(f"Exchange {i}", i) for i in range(7)]
    creates = audit(session, "create")
    assert len(creates) == 7
    for entry in creates:
        title, students = by_id[entry.entity_id]
        assert entry.label == title and entry.changes["local_students"] == students


def test_changed_activities_are_updated_with_their_history(session, world):
    run(session, ROWS)
    ids = dict(session.execute(sa.select(Activity.title, Activity.id)).all())
    rows = [list(r) for r in ROWS]
    rows[0][9] = "30"
    rows[1][13] = "Eight days in New Jersey"
    plan = plan_for(session, rows)
    assert plan.counts == {"new": 0, "changed": 2, "unchanged": 1, "skipped": 0, "invalid": 0}
    changed = {r.label: dict(r.changes) for r in plan.by_action("changed")}
    assert changed == {
        "014501 – Online cultural exchange": {"local_students": ["25", "30"]},
        "014501 – Visit to Holmdel": {"description": ["Ten days in New Jersey",
                                                      "Eight days in New Jersey"]},
    }
    apply_plan(session, plan)
    session.commit()
    session.expire_all()
    now = stored(session)
    assert now["Online cultural exchange"][5] == 30
    assert now["Online cultural exchange"][-1] == 2  # version
    assert now["Visit to Holmdel"][9] == "Eight days in New Jersey"
    assert now["Science fair"][-1] == 1
    updates = audit(session, "update")
    assert sorted((e.entity_id, e.changes) for e in updates) == sorted([
        (ids["Online cultural exchange"], {"local_students": [25, 30]}),
        (ids["Visit to Holmdel"], {"description": ["Ten days in New Jersey",
                                                   "Eight days in New Jersey"]}),
    ])


def test_same_file_twice_changes_nothing_the_second_time(session, world):
    run(session, ROWS)
    before = stored(session)
    plan, counts = run(session, ROWS)
    assert counts == {"new": 0, "changed": 0, "unchanged": 3, "skipped": 0, "invalid": 0}
    assert stored(session) == before
    assert len(audit(session, "create")) == 3
    assert audit(session, "update") == []
    assert len(audit(session, "import", None)) == 2


def test_bulk_import_moves_the_data_version_once_and_a_refused_one_not_at_all(session, world):
    version = dataversion.current(session)
    run(session, ROWS)
    assert dataversion.current(session) == version + 1

    bad = [list(ROWS[0]), ["019999", *ROWS[0][1:4], "Nowhere", *ROWS[0][5:]]]
    bad[0][4] = "Another exchange"
    plan = plan_for(session, bad)
    with pytest.raises(ImportRefused, match="1 row is invalid; nothing was imported."):
        apply_plan(session, plan)
    session.rollback()
    assert dataversion.current(session) == version + 1
    assert len(stored(session)) == 3


def test_invalid_rows_block_the_import_unless_only_valid(session, world):
    rows = [*ROWS, ["019999", *ROWS[0][1:4], "Nowhere", *ROWS[0][5:]],
            [*ROWS[0][:4], "online  CULTURAL exchange", *ROWS[0][5:]]]
    audit_rows = session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    plan = plan_for(session, rows)
    assert plan.counts == {"new": 3, "changed": 0, "unchanged": 0, "skipped": 0, "invalid": 2}
    assert sorted((e.row, e.column, e.reason) for e in plan.errors) == [
        (5, "school_code", "No school with this code."),
        (6, "title", "Duplicate of row 2 in this file."),
    ]
    with pytest.raises(ImportRefused):
        apply_plan(session, plan)
    session.rollback()
    assert stored(session) == {}
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == audit_rows

    counts = apply_plan(session, plan, only_valid=True)
    session.commit()
    assert counts["new"] == 3 and counts["invalid"] == 2
    assert sorted(stored(session)) == ["Online cultural exchange", "Science fair",
                                       "Visit to Holmdel"]
    assert audit(session, "import", None)[0].changes["only_valid"] is True


def test_web_preview_lists_the_first_new_rows_then_imports(app, client, login_as, world,
                                                           monkeypatch):
    monkeypatch.setattr(service, "PREVIEW_NEW_ROWS", 2)
    monkeypatch.setattr("pairing.imports.views.PREVIEW_NEW_ROWS", 2)
    staff = login_as("staff")
    token, html = preview(client, upload(client, fx.csv_bytes(HEADER, ROWS), "a.csv",
                                         kind="activities"))
    assert count_in(html, "new") == 3
    listed = re.findall(r"<li>Row (\d+): ([^<]+)</li>", html)
    assert listed == [("2", "014501 – Online cultural exchange"),
                      ("3", "014501 – Visit to Holmdel")]
    assert "and 1 more." in html
    with app.app_context():
        assert stored(db.session) == {}, "the preview saves nothing"
    resp = client.post("/imports/confirm", data={"token": token})
    assert resp.status_code == 302
    with app.app_context():
        assert len(stored(db.session)) == 3
        assert {e.user_id for e in audit(db.session, "create")} == {staff}
        assert audit(db.session, "import", None)[0].user_id == staff


def test_cli_imports_activities(app, runner, world, tmp_path):
    path = tmp_path / "activities.csv"
    path.write_bytes(fx.csv_bytes(HEADER, ROWS))
    result = runner.invoke(args=["import", "activities", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported: 3 new, 0 changed." in result.output
    result = runner.invoke(args=["import", "activities", str(path)])
    assert "new: 0, changed: 0, unchanged: 3" in result.output
    with app.app_context():
        assert len(stored(db.session)) == 3


def test_reader_keeps_one_copy_of_repeated_short_values():
    table = read_table(fx.csv_bytes(HEADER, ROWS[:2]))
    first, second = table.rows[0][1], table.rows[1][1]
    assert first[0] == "014501" and first[0] is second[0]
    assert first[1] is second[1]  # the partner school's name


def test_reader_checks_utf8_a_chunk_at_a_time(monkeypatch):
    monkeypatch.setattr(readers, "DECODE_CHUNK", 5)  # splits the three-byte characters
    data = fx.csv_bytes(["學校代碼", "學校名稱"], [["014601", "市立板橋國小"]], encoding="utf-8")
    table = read_table(data)
    assert table.encoding == "UTF-8"
    assert table.headers == ["學校代碼", "學校名稱"]
    assert table.rows == [(2, ["014601", "市立板橋國小"])]
    big5 = read_table(fx.csv_bytes(["學校代碼", "學校名稱"], [["014601", "市立板橋國小"]],
                                   encoding="cp950"))
    assert big5.encoding == "Big5 (CP950)" and big5.rows == table.rows

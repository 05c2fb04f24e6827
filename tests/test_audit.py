"""The audit trail: a row for every change, in the change's transaction; the global page."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime

import pytest
from flask_login import login_user
from sqlalchemy import func, select

from pairing.accounts.models import User
from pairing.audit.models import AuditLog
from pairing.common.enums import PairingStatus

from . import factories


@contextmanager
def acting_as(app, user_id: int):
    """A request in which ``user_id`` is signed in: the audit rows name them."""
    from pairing.extensions import db

    with app.test_request_context():
        login_user(db.session.get(User, user_id))
        yield


def _rows(session, entity_type: str, entity_id: int, action: str | None = None):
    stmt = select(AuditLog).where(AuditLog.entity_type == entity_type,
                                  AuditLog.entity_id == entity_id).order_by(AuditLog.id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    return session.scalars(stmt).all()


def _audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditLog))


def _school(s):
    return factories.make_school(s, code="015001", name_zh="測試國小", phone="02-1111")


def _partner_school(s):
    return factories.make_partner_school(s, name="Aurora Elementary", website="https://a.example")


def _partner_city(s):
    return factories.make_partner_city(s, name="Aurora", region="Colorado")


def _pairing(s):
    return factories.make_pairing(s, status=PairingStatus.NEGOTIATING, events=[])


def _activity(s):
    pairing = factories.make_pairing(s, events=[])
    return factories.make_activity(s, pairing=pairing, title="Video call",
                                   start_on=date(2024, 4, 1))


def _user(s):
    return factories.make_user(s, role="official", email="watcher@example.org", name="Watcher")


# (entity type, factory, a field, its new value, the stored form of old and new values)
CASES = [
    ("school", _school, "phone", "02-2222", ("02-1111", "02-2222")),
    ("partner_school", _partner_school, "website", "https://b.example",
     ("https://a.example", "https://b.example")),
    ("partner_city", _partner_city, "region", "CO", ("Colorado", "CO")),
    ("pairing", _pairing, "status", PairingStatus.PROPOSED, ("negotiating", "proposed")),
    ("activity", _activity, "start_on", date(2024, 4, 2), ("2024-04-01", "2024-04-02")),
    ("user", _user, "name", "Observer", ("Watcher", "Observer")),
]


@pytest.mark.parametrize("entity_type, make, field, new_value, stored", CASES,
                         ids=[c[0] for c in CASES])
def test_create_update_delete_each_write_a_row_with_who_and_what(
        app, session, entity_type, make, field, new_value, stored):
    actor = factories.make_user(session, role="staff", email="actor@example.org")
    session.commit()
    actor_id = actor.id

    with acting_as(app, actor_id):
        obj = make(session)
        session.commit()
        obj_id = obj.id
    (created,) = _rows(session, entity_type, obj_id)
    assert created.action == "create"
    assert (created.user_id, created.user_email) == (actor_id, "actor@example.org")
    assert created.changes[field] == stored[0]
    assert "id" not in created.changes and "version" not in created.changes

    with acting_as(app, actor_id):
        setattr(obj, field, new_value)
        session.commit()
    updated = _rows(session, entity_type, obj_id, "update")
    assert len(updated) == 1
    assert updated[0].changes == {field: list(stored)}
    assert updated[0].user_email == "actor@example.org"

    with acting_as(app, actor_id):
        session.delete(obj)
        session.commit()
    (deleted,) = _rows(session, entity_type, obj_id, "delete")
    assert deleted.user_id == actor_id
    assert deleted.changes[field] == stored[1]
    assert [r.action for r in _rows(session, entity_type, obj_id)] == [
        "create", "update", "delete"]


def test_rolled_back_changes_leave_no_audit_row(app, session):
    actor = factories.make_user(session, role="staff")
    school = factories.make_school(session, phone="02-1111")
    session.commit()
    before = _audit_count(session)
    with acting_as(app, actor.id):
        school.phone = "02-9999"
        factories.make_partner_city(session, name="Rolled Back City")
        session.flush()  # the audit rows are written by this flush...
        assert _audit_count(session) == before + 2
        session.rollback()  # ...and leave with the change
    assert _audit_count(session) == before
    session.expire_all()
    assert session.get(type(school), school.id).phone == "02-1111"


def test_a_failed_change_writes_no_audit_row(app, session):
    """A change the database refuses takes its audit row down with it."""
    from sqlalchemy.exc import IntegrityError

    factories.make_school(session, code="015002")
    session.commit()
    before = _audit_count(session)
    with pytest.raises(IntegrityError):
        factories.make_school(session, code="015002")  # duplicate code
    session.rollback()
    assert _audit_count(session) == before


def test_unchanged_save_writes_nothing(app, session):
    school = factories.make_school(session, phone="02-1111")
    session.commit()
    before = _audit_count(session)
    school.phone = "02-1111"
    session.commit()
    assert _audit_count(session) == before


def test_password_hash_never_in_the_trail(app, session):
    user = factories.make_user(session, role="official")
    session.commit()
    user.set_password("another-long-password")
    session.commit()
    rows = _rows(session, "user", user.id)
    assert all("password_hash" not in (r.changes or {}) for r in rows)
    assert [r.action for r in rows] == ["create"]


def test_cli_actor_override_names_the_command(app, session):
    from pairing.audit.tracking import actor_override

    token = actor_override.set((None, "seed-demo"))
    try:
        city = factories.make_partner_city(session)
        session.commit()
    finally:
        actor_override.reset(token)
    (row,) = _rows(session, "partner_city", city.id)
    assert (row.user_id, row.user_email) == (None, "seed-demo")


def test_history_tab_shows_old_and_new_values(client, login_as, session):
    login_as("admin", email="boss@example.org")
    user = factories.make_user(session, role="official", name="Before")
    session.commit()
    user.name = "After"
    session.commit()
    html = client.get(f"/users/{user.id}").data.decode()
    assert "<del><bdi>Before</bdi></del> → <ins><bdi>After</bdi></ins>" in html


# --- the global audit page -------------------------------------------------------------


def _entry(session, at, action="update", email="a@example.org", entity_type="school",
           entity_id=1, label="School 1", changes=None):
    session.add(AuditLog(at=at, action=action, user_email=email, entity_type=entity_type,
                         entity_id=entity_id, label=label, changes=changes))


def test_audit_page_filters_and_pagination(app, client, login_as, session):
    login_as("staff", email="viewer@example.org")
    _entry(session, datetime(2025, 3, 1, 15, 59), label="Early school",
           changes={"phone": ["02-1", "02-2"]})
    # 17:00 UTC on 1 March is 01:00 on 2 March in Taipei (UTC+8).
    _entry(session, datetime(2025, 3, 1, 17, 0), action="create", entity_type="pairing",
           label="Late pairing", email="b@example.org")
    _entry(session, datetime(2025, 3, 5, 8, 0), action="delete", entity_type="activity",
           label="Gone activity", email="b@example.org")
    session.commit()

    def labels(**query):
        resp = client.get("/audit/", query_string=query)
        assert resp.status_code == 200
        html = resp.data.decode()
        return [name for name in ("Early school", "Late pairing", "Gone activity")
                if name in html]

    assert labels() == ["Early school", "Late pairing", "Gone activity"]
    assert labels(user="b@ex") == ["Late pairing", "Gone activity"]
    assert labels(entity_type="pairing") == ["Late pairing"]
    assert labels(action="delete") == ["Gone activity"]
    assert labels(date_from="2025-03-02", date_to="2025-03-02") == ["Late pairing"]
    assert labels(date_to="2025-03-01") == ["Early school"]
    assert labels(date_from="2025-03-03") == ["Gone activity"]
    assert labels(date_from="not-a-date") == ["Early school", "Late pairing", "Gone activity"]

    html = client.get("/audit/", query_string={"entity_type": "school"}).data.decode()
    assert "<del><bdi>02-1</bdi></del> → <ins><bdi>02-2</bdi></ins>" in html
    assert "No audit entry matches" in client.get(
        "/audit/", query_string={"user": "nobody"}).data.decode()

    app.config["PER_PAGE"] = 2
    # 3 entries + the staff user's creation + its sign-in = 5 rows, 2 per page: 3 pages.
    page3 = client.get("/audit/", query_string={"page": 3}).data.decode()
    assert "5 records, page 3 of 3" in page3
    assert "Early school" in page3  # the oldest entry comes last


def test_audit_page_is_for_staff_and_admins(client, login_as):
    login_as("official")
    assert client.get("/audit/").status_code == 403


def test_no_route_changes_audit_rows(app):
    audit_routes = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert audit_routes
    for rule in audit_routes:
        assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, rule

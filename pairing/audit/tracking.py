"""Write audit rows from SQLAlchemy's flush, so they share the change's transaction.

A change that is rolled back takes its audit rows with it, and no audit row exists without
its change. Models opt in by being listed in AUDITED.
"""

from __future__ import annotations

import enum
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..common import dataversion
from ..common.models import utcnow
from .models import AuditLog

IGNORED_FIELDS = {"version", "created_at", "updated_at", "password_hash", "last_login_at"}

# Set by CLI commands and imports so rows name who acted outside a request.
actor_override: ContextVar[tuple[int | None, str | None] | None] = ContextVar(
    "actor_override", default=None
)


def _audited() -> dict[type, str]:
    from ..accounts.models import User
    from ..pairings.models import Activity, Pairing
    from ..partners.models import PartnerCity, PartnerSchool
    from ..schools.models import School

    return {
        School: "school",
        PartnerSchool: "partner_school",
        PartnerCity: "partner_city",
        Pairing: "pairing",
        Activity: "activity",
        User: "user",
    }


def _jsonable(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def current_actor() -> tuple[int | None, str | None]:
    override = actor_override.get()
    if override is not None:
        return override
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return current_user.id, current_user.email
    return None, None


def _client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def _label(obj) -> str:
    for attr in ("code", "email", "title", "name"):
        value = getattr(obj, attr, None)
        if value:
            extra = getattr(obj, "name_zh", None) if attr == "code" else None
            return f"{value} {extra}" if extra else str(value)
    return f"#{getattr(obj, 'id', '')}"


def _changes(obj, kind: str) -> dict:
    state = inspect(obj)
    out: dict = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in IGNORED_FIELDS:
            continue
        hist = state.attrs[key].history
        if kind == "update":
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if _jsonable(old) == _jsonable(new):
                continue
            out[key] = [_jsonable(old), _jsonable(new)]
        else:
            value = getattr(obj, key)
            if value is not None and key != "id":
                out[key] = _jsonable(value)
    return out


def record(session_or_conn, action: str, entity_type: str | None = None,
           entity_id: int | None = None, label: str | None = None, changes: dict | None = None,
           user: tuple[int | None, str | None] | None = None) -> None:
    """Insert one audit row through the session's current connection (same transaction)."""
    user_id, email = user if user is not None else current_actor()
    conn = session_or_conn.connection() if isinstance(session_or_conn, Session) else session_or_conn
    conn.execute(
        sa.insert(AuditLog.__table__).values(
            at=utcnow(),
            user_id=user_id,
            user_email=email,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            label=(label or "")[:300] or None,
            changes=changes,
            ip=_client_ip(),
        )
    )
    if action == "import":  # bulk loads bypass the ORM hook: move the data version here
        dataversion.bump(conn)


def record_created(session: Session, entity_type: str,
                   records: list[tuple[int, str, dict]]) -> None:
    """One 'create' row per record inserted with Core (bulk imports), in one statement.

    ``records``: (id, label, column values) each; the values are stored as the flush hook
    stores a created object's (no id, timestamps or version, no empty values).
    """
    if not records:
        return
    user_id, email = current_actor()
    at, ip = utcnow(), _client_ip()
    rows = [{"at": at, "user_id": user_id, "user_email": email, "action": "create",
             "entity_type": entity_type, "entity_id": entity_id,
             "label": (label or "")[:300] or None, "ip": ip,
             "changes": {key: _jsonable(value) for key, value in values.items()
                         if value is not None and key != "id" and key not in IGNORED_FIELDS}}
            for entity_id, label, values in records]
    session.execute(sa.insert(AuditLog.__table__), rows)


def _after_flush(session: Session, flush_context) -> None:
    audited = _audited()
    if dataversion.touches_figures(session):
        dataversion.mark_changed(session)
    rows = []
    for kind, objs in (("create", session.new), ("update", session.dirty),
                       ("delete", session.deleted)):
        for obj in objs:
            entity_type = audited.get(type(obj))
            if entity_type is None:
                continue
            if kind == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, kind)
            if kind == "update" and not changes:
                continue
            rows.append((kind, entity_type, obj.id, _label(obj), changes))
    if not rows:
        return
    conn = session.connection()
    for kind, entity_type, entity_id, label, changes in rows:
        record(conn, kind, entity_type, entity_id, label, changes)


def _keep_old_value(target, value, oldvalue, initiator):
    return value


def _track_old_values() -> None:
    """Load the old value before an attribute is set, even when it was expired (after a
    commit): otherwise the flush knows only the new value and the trail would say "None"."""
    for cls in _audited():
        for prop in inspect(cls).column_attrs:
            attr = getattr(cls, prop.key)
            if prop.key in IGNORED_FIELDS or event.contains(attr, "set", _keep_old_value):
                continue
            event.listen(attr, "set", _keep_old_value, active_history=True, retval=True)


def install(session_factory) -> None:
    """Attach the listener to Flask-SQLAlchemy's session class (idempotent)."""
    if not event.contains(session_factory, "after_flush", _after_flush):
        event.listen(session_factory, "after_flush", _after_flush)
    dataversion.install(session_factory)
    _track_old_values()

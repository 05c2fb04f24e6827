"""Reading the audit trail. Nothing here (or anywhere) updates or deletes audit rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from ..common.lists import search_clause
from ..extensions import db
from .models import AuditLog

#: Record types with their labels, in the order the filter lists them.
ENTITY_TYPES = {
    "school": _l("School"),
    "partner_school": _l("Partner school"),
    "partner_city": _l("Partner city"),
    "pairing": _l("Pairing"),
    "activity": _l("Activity"),
    "user": _l("User"),
}

ACTIONS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "import": _l("Imported"),
    "login": _l("Signed in"),
    "login_failed": _l("Failed sign-in"),
    "logout": _l("Signed out"),
    "password_change": _l("Changed own password"),
    "password_reset": _l("Temporary password set"),
}


def history_for(entity_type: str, entity_id: int, limit: int = 100) -> list[AuditLog]:
    """The newest entries for one record, for its History tab."""
    stmt = (select(AuditLog)
            .where(AuditLog.entity_type == entity_type, AuditLog.entity_id == entity_id)
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
            .limit(limit))
    return list(db.session.scalars(stmt))


def _utc_start_of(day: date) -> datetime:
    """Midnight of ``day`` in the display time zone, as the naive UTC the rows store."""
    zone = ZoneInfo(str(get_timezone()))  # Babel gives pytz zones; they need localize()
    local = datetime.combine(day, time.min, tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


def audit_query(user: str | None = None, entity_type: str | None = None,
                action: str | None = None, date_from: date | None = None,
                date_to: date | None = None, entity_id: int | None = None) -> Select:
    """Rows matching the global audit page's filters, newest first.

    ``date_from`` and ``date_to`` are inclusive days in the display time zone.
    """
    stmt = select(AuditLog)
    clause = search_clause(user, AuditLog.user_email)
    if clause is not None:
        stmt = stmt.where(clause)
    if entity_type:
        stmt = stmt.where(AuditLog.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditLog.entity_id == entity_id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if date_from:
        stmt = stmt.where(AuditLog.at >= _utc_start_of(date_from))
    if date_to:
        stmt = stmt.where(AuditLog.at < _utc_start_of(date_to + timedelta(days=1)))
    return stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())

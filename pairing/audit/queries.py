"""Reading the audit trail."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from .models import AuditLog


def history_for(entity_type: str, entity_id: int, limit: int = 100) -> list[AuditLog]:
    """The newest entries for one record, for its History tab."""
    stmt = (select(AuditLog)
            .where(AuditLog.entity_type == entity_type, AuditLog.entity_id == entity_id)
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
            .limit(limit))
    return list(db.session.scalars(stmt))

"""AuditLog rows are only ever inserted; no page or command edits or deletes them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..common.models import utcnow
from ..extensions import db


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    user_email: Mapped[str | None] = mapped_column(sa.String(254))
    # create, update, delete, login, login_failed, logout, import
    action: Mapped[str] = mapped_column(sa.String(20), index=True)
    entity_type: Mapped[str | None] = mapped_column(sa.String(40))
    entity_id: Mapped[int | None]
    label: Mapped[str | None] = mapped_column(sa.String(300))
    # {"field": [old, new], ...} for updates; the values for creates and deletes.
    changes: Mapped[dict | None] = mapped_column(sa.JSON)
    ip: Mapped[str | None] = mapped_column(sa.String(64))

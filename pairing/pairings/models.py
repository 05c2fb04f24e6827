"""Pairing, its dated status history (PairingEvent), and Activity."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..common.enums import ActivityMode, ActivityType, PairingStatus
from ..common.models import TimestampMixin, VersionedMixin, enum_type, utcnow
from ..extensions import db
from ..partners.models import PartnerSchool
from ..schools.models import School

OPEN_STATUSES = (
    PairingStatus.PROPOSED,
    PairingStatus.NEGOTIATING,
    PairingStatus.ACTIVE,
    PairingStatus.SUSPENDED,
)


class Pairing(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "pairing"
    __table_args__ = (
        sa.CheckConstraint("status <> 'active' OR signed_on IS NOT NULL", name="active_is_signed"),
        sa.CheckConstraint("status <> 'ended' OR ended_on IS NOT NULL", name="ended_has_date"),
        sa.CheckConstraint("end_on IS NULL OR start_on IS NULL OR end_on >= start_on",
                           name="end_after_start"),
        sa.CheckConstraint("ended_on IS NULL OR signed_on IS NULL OR ended_on >= signed_on",
                           name="ended_after_signed"),
        # At most one pairing per school and partner school that is not ended.
        sa.Index(
            "uq_pairing_open_per_partner",
            "school_id",
            "partner_school_id",
            unique=True,
            sqlite_where=sa.text("status <> 'ended'"),
            postgresql_where=sa.text("status <> 'ended'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("school.id"), index=True)
    partner_school_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_school.id"), index=True)
    status: Mapped[PairingStatus] = mapped_column(
        enum_type(PairingStatus, "pairing_status"), default=PairingStatus.PROPOSED, index=True
    )
    signed_on: Mapped[date | None]
    start_on: Mapped[date | None]
    end_on: Mapped[date | None]  # agreement expiry or renewal date
    ended_on: Mapped[date | None]
    focus_areas: Mapped[str | None] = mapped_column(sa.String(300))
    coordinator: Mapped[str | None] = mapped_column(sa.String(120))
    notes: Mapped[str | None] = mapped_column(sa.Text)

    school: Mapped[School] = relationship(back_populates="pairings")
    partner_school: Mapped[PartnerSchool] = relationship(back_populates="pairings")
    activities: Mapped[list[Activity]] = relationship(
        back_populates="pairing", order_by="Activity.start_on.desc()"
    )
    events: Mapped[list[PairingEvent]] = relationship(
        back_populates="pairing",
        order_by="(PairingEvent.effective_on, PairingEvent.id)",
        cascade="all, delete-orphan",
    )

    @property
    def is_open(self) -> bool:
        return self.status != PairingStatus.ENDED

    def __repr__(self) -> str:
        return f"<Pairing {self.id} {self.status.value}>"


class PairingEvent(db.Model):
    """One dated status change. The dashboard rebuilds history from these, not from today's
    status: a pairing is active on a date when its latest event on or before it is 'active'."""

    __tablename__ = "pairing_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("pairing.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[PairingStatus] = mapped_column(enum_type(PairingStatus, "pairing_event_status"))
    effective_on: Mapped[date] = mapped_column(index=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    pairing: Mapped[Pairing] = relationship(back_populates="events")


class Activity(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "activity"
    __table_args__ = (
        sa.CheckConstraint("end_on IS NULL OR end_on >= start_on", name="end_after_start"),
        sa.CheckConstraint(
            "local_students >= 0 AND local_teachers >= 0 AND partner_students >= 0 "
            "AND partner_teachers >= 0",
            name="counts_not_negative",
        ),
        sa.CheckConstraint("length(title) > 0", name="title_not_empty"),
        sa.Index("ix_activity_pairing_start", "pairing_id", "start_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(sa.ForeignKey("pairing.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[ActivityType] = mapped_column(enum_type(ActivityType, "activity_type"))
    mode: Mapped[ActivityMode] = mapped_column(enum_type(ActivityMode, "activity_mode"))
    start_on: Mapped[date] = mapped_column(index=True)
    end_on: Mapped[date | None]
    local_students: Mapped[int] = mapped_column(default=0, server_default="0")
    local_teachers: Mapped[int] = mapped_column(default=0, server_default="0")
    partner_students: Mapped[int] = mapped_column(default=0, server_default="0")
    partner_teachers: Mapped[int] = mapped_column(default=0, server_default="0")
    description: Mapped[str | None] = mapped_column(sa.Text)
    evidence_url: Mapped[str | None] = mapped_column(sa.String(500))

    pairing: Mapped[Pairing] = relationship(back_populates="activities")

    @property
    def participants(self) -> int:
        return (self.local_students + self.local_teachers + self.partner_students
                + self.partner_teachers)

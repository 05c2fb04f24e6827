"""Pairing, its dated status history (PairingEvent), and Activity."""

from __future__ import annotations

import math
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

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
    #: The next event's ``effective_on`` (None for the latest): the status held on
    #: [effective_on, until_on). Derived, kept by ``_keep_periods`` before every flush, so
    #: that the dashboard reads periods with an index instead of a window function.
    until_on: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    pairing: Mapped[Pairing] = relationship(back_populates="events")


def event_order(events: list[PairingEvent]) -> list[PairingEvent]:
    """Events by date; of two on the same day the later-recorded (higher id, or not yet
    inserted) takes over."""
    order = sorted(range(len(events)), key=lambda i: (
        events[i].effective_on, events[i].id if events[i].id is not None else math.inf, i))
    return [events[i] for i in order]


def set_periods(events: list[PairingEvent]) -> None:
    """Point each event's ``until_on`` at the next event's date."""
    ordered = event_order(events)
    for event, after in zip(ordered, [*ordered[1:], None], strict=True):
        until = after.effective_on if after is not None else None
        if event.until_on != until:
            event.until_on = until


def refresh_periods(session: Session, pairing_ids=None) -> None:
    """Recompute ``until_on`` in SQL, after events were written with Core inserts (the demo
    seed, the benchmark's generator), which the flush hook below does not see."""
    event, after = PairingEvent.__table__, PairingEvent.__table__.alias("after")
    following = (
        sa.select(after.c.effective_on)
        .where(after.c.pairing_id == event.c.pairing_id,
               sa.or_(after.c.effective_on > event.c.effective_on,
                      sa.and_(after.c.effective_on == event.c.effective_on,
                              after.c.id > event.c.id)))
        .order_by(after.c.effective_on, after.c.id)
        .limit(1)
        .scalar_subquery()
    )
    stmt = sa.update(event).values(until_on=following)
    if pairing_ids is not None:
        stmt = stmt.where(event.c.pairing_id.in_(pairing_ids))
    session.execute(stmt)


@sa.event.listens_for(Session, "before_flush")
def _keep_periods(session: Session, _context, _instances) -> None:
    """Recompute ``until_on`` for every pairing whose events change in this flush."""
    touched: set[Pairing] = set()
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if not isinstance(obj, PairingEvent):
                continue
            # An event taken out of ``pairing.events`` has lost ``pairing`` but keeps the id.
            pairing = obj.pairing or (session.get(Pairing, obj.pairing_id)
                                      if obj.pairing_id is not None else None)
            if pairing is not None:
                touched.add(pairing)
        for pairing in touched:
            if pairing in session.deleted:
                continue
            set_periods([e for e in pairing.events if e not in session.deleted])


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
        # Covers the dashboard's activity aggregates, so they read the index alone.
        sa.Index("ix_activity_start_cover", "start_on", "pairing_id", "type", "mode",
                 "local_students", "partner_students", "local_teachers", "partner_teachers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(sa.ForeignKey("pairing.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[ActivityType] = mapped_column(enum_type(ActivityType, "activity_type"))
    mode: Mapped[ActivityMode] = mapped_column(enum_type(ActivityMode, "activity_mode"))
    start_on: Mapped[date]
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

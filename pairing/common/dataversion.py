"""A counter that moves whenever committed data behind a dashboard figure moves.

The ORM flush hook (audit/tracking.py) marks a session whose flush touched a district, school,
partner city, partner school, pairing, pairing event or activity; just before the commit the
counter row ``setting.data_version`` is incremented in the same transaction. Bulk loaders
that bypass the ORM (imports, the demo data) record an 'import' audit row, which bumps it too.
Caches key their entries on this number, so a committed change invalidates them at once in
every process, and a rolled-back change invalidates nothing.

The increment is done at commit time (not at the first flush) so that the row lock it takes on
PostgreSQL is held only for the commit itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from .models import utcnow

KEY = "data_version"
_FLAG = "data_changed"


def _setting_table() -> sa.Table:
    from ..dashboard.models import Setting

    return Setting.__table__


def bump(connection) -> None:
    """Increment the counter through ``connection`` (create the row the first time)."""
    table = _setting_table()
    result = connection.execute(
        table.update().where(table.c.key == KEY).values(
            value=sa.cast(sa.cast(table.c.value, sa.Integer) + 1, sa.String(200)),
            updated_at=utcnow(),
        )
    )
    if result.rowcount == 0:
        connection.execute(table.insert().values(key=KEY, value="1", version=1,
                                                 created_at=utcnow(), updated_at=utcnow()))


def current(session: Session) -> int:
    """The committed counter (0 before the first tracked change)."""
    table = _setting_table()
    value = session.execute(select_value(table)).scalar()
    return int(value) if value is not None else 0


def select_value(table: sa.Table):
    return sa.select(table.c.value).where(table.c.key == KEY)


def _tracked() -> tuple[type, ...]:
    from ..pairings.models import Activity, Pairing, PairingEvent
    from ..partners.models import PartnerCity, PartnerSchool
    from ..schools.models import District, School

    return (District, School, PartnerCity, PartnerSchool, Pairing, PairingEvent, Activity)


def touches_figures(session: Session) -> bool:
    """Whether the flush in progress creates, changes or deletes data behind a figure."""
    tracked = _tracked()
    return any(isinstance(obj, tracked)
               for objs in (session.new, session.dirty, session.deleted) for obj in objs)


def mark_changed(session: Session) -> None:
    """Called from the flush hook; the counter moves at commit."""
    session.info[_FLAG] = True


def _before_commit(session: Session) -> None:
    if session._is_clean() is False:  # flush now so this transaction's changes are marked
        session.flush()
    if session.info.pop(_FLAG, False):
        bump(session.connection())


def _forget(session: Session, *args) -> None:
    session.info.pop(_FLAG, None)


def install(session_factory) -> None:
    if not event.contains(session_factory, "before_commit", _before_commit):
        event.listen(session_factory, "before_commit", _before_commit)
        event.listen(session_factory, "after_soft_rollback", _forget)

"""``pairing_event.until_on``: each status lasts until the next event, kept on every flush and
recomputed in SQL after Core inserts. The dashboard's history depends on it."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from pairing.pairings import service
from pairing.pairings.models import PairingEvent, refresh_periods

from . import factories
from .test_pairing_service import _create, _update


def _periods(session, pairing_id: int) -> list[tuple[str, date, date | None]]:
    rows = session.execute(
        sa.select(PairingEvent.status, PairingEvent.effective_on, PairingEvent.until_on)
        .where(PairingEvent.pairing_id == pairing_id)
        .order_by(PairingEvent.effective_on, PairingEvent.id))
    return [(s.value, start, until) for s, start, until in rows]


def test_periods_follow_the_service_history(session):
    school = factories.make_school(session)
    partner = factories.make_partner_school(session)
    session.commit()
    pairing = _create(session, school, partner, status="proposed",
                      effective_on=date(2023, 5, 1))
    assert _periods(session, pairing.id) == [("proposed", date(2023, 5, 1), None)]

    pairing = _update(session, pairing, status="active", signed_on=date(2023, 9, 1))
    pairing = _update(session, pairing, status="suspended", effective_on=date(2024, 2, 1))
    assert _periods(session, pairing.id) == [
        ("proposed", date(2023, 5, 1), date(2023, 9, 1)),
        ("active", date(2023, 9, 1), date(2024, 2, 1)),
        ("suspended", date(2024, 2, 1), None),
    ]
    # Moving the signing date earlier moves the end of the proposal with it.
    pairing = _update(session, pairing, signed_on=date(2023, 8, 1))
    assert _periods(session, pairing.id)[:2] == [
        ("proposed", date(2023, 5, 1), date(2023, 8, 1)),
        ("active", date(2023, 8, 1), date(2024, 2, 1)),
    ]


def test_same_day_events_the_later_recorded_takes_over(session):
    pairing = factories.make_pairing(session, events=[
        ("active", date(2024, 1, 1)), ("suspended", date(2024, 1, 1)),
        ("active", date(2024, 6, 1))])
    session.commit()
    assert _periods(session, pairing.id) == [
        ("active", date(2024, 1, 1), date(2024, 1, 1)),  # empty: never active that day
        ("suspended", date(2024, 1, 1), date(2024, 6, 1)),
        ("active", date(2024, 6, 1), None),
    ]


def test_deleting_an_event_joins_the_neighbours(session):
    pairing = factories.make_pairing(session, events=[
        ("active", date(2024, 1, 1)), ("suspended", date(2024, 3, 1)),
        ("ended", date(2024, 9, 1))])
    session.commit()
    suspended = next(e for e in pairing.events if e.effective_on == date(2024, 3, 1))
    pairing.events.remove(suspended)
    session.delete(suspended)
    session.commit()
    assert _periods(session, pairing.id) == [
        ("active", date(2024, 1, 1), date(2024, 9, 1)),
        ("ended", date(2024, 9, 1), None),
    ]


def test_refresh_in_sql_agrees_with_the_flush_hook(session):
    a = factories.make_pairing(session, events=[
        ("proposed", date(2022, 1, 1)), ("active", date(2022, 6, 1)),
        ("suspended", date(2022, 6, 1)), ("active", date(2023, 1, 1)),
        ("ended", date(2024, 1, 1))])
    b = factories.make_pairing(session, events=[("active", date(2023, 3, 3))])
    session.commit()
    expected = {p.id: _periods(session, p.id) for p in (a, b)}
    session.execute(sa.update(PairingEvent).values(until_on=date(1999, 1, 1)))
    refresh_periods(session, [a.id])
    assert _periods(session, a.id) == expected[a.id]
    assert _periods(session, b.id)[0][2] == date(1999, 1, 1)  # outside the given ids
    refresh_periods(session)
    assert {p.id: _periods(session, p.id) for p in (a, b)} == expected


def test_deleting_a_pairing_takes_its_events(session):
    pairing = factories.make_pairing(session, events=[
        ("active", date(2024, 1, 1)), ("ended", date(2024, 5, 1))])
    session.commit()
    pairing_id = pairing.id
    assert service.delete_pairing(session, pairing) is True  # the flush hook must not fail
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(PairingEvent)
                          .where(PairingEvent.pairing_id == pairing_id)) == 0

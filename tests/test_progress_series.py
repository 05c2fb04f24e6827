"""The trajectory's counts against a brute-force reading of the definitions, on random
histories: same-day status changes, activities on the first of a month and on window edges,
closed schools, several pairings per school, and both a short and a long dormancy window.

``coverage_series`` counts month-start points through merged month spans and a sweep, and the
other points with per-pairing probes; both must agree with the definitions on every date."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from pairing.common.enums import Level, PairingStatus
from pairing.dashboard import progress
from pairing.dashboard.progress import Filters, add_months

from . import factories as f

START, END = date(2021, 1, 1), date(2025, 6, 30)


def _day(rng: random.Random) -> date:
    day = START + timedelta(days=rng.randint(0, (END - START).days))
    return day.replace(day=1) if rng.random() < 0.3 else day  # 1st: the windows' edges


def _world(session, seed: int):
    rng = random.Random(seed)
    district = f.make_district(session)
    schools = []
    for _i in range(8):
        closed = _day(rng) if rng.random() < 0.25 else None
        levels = rng.choice([("primary",), ("junior",), ("primary", "junior")])
        schools.append(f.make_school(session, district=district, levels=levels,
                                     closed_on=closed))
    facts = []  # (school, levels, closed_on, events [(status, day)], activity days)
    for n in range(14):
        school = rng.choice(schools)
        days = sorted(_day(rng) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.5 and len(days) > 1:
            days[1] = days[0]  # two changes on one day: the later one wins
        statuses = [rng.choice(["active", "suspended", "active", "ended"]) for _ in days]
        events = list(zip(statuses, days, strict=True))
        pairing = f.make_pairing(session, school=school,
                                 partner=f.make_partner_school(session, name=f"P{seed}-{n}"),
                                 events=events)
        acts = sorted(_day(rng) for _ in range(rng.randint(0, 5)))
        for a in acts:
            f.make_activity(session, pairing=pairing, start_on=a)
        facts.append((school, events, acts))
    session.commit()
    return schools, facts


def _status_on(events: list[tuple[str, date]], day: date) -> str | None:
    status = None
    # A stable sort keeps the recorded order of same-day changes: the later one wins.
    for st, when in sorted(events, key=lambda e: e[1]):
        if when <= day:
            status = st
    return status


def _expected(schools, facts, day: date, months: int, level: Level | None) -> dict:
    def wanted(s) -> bool:
        return level is None or getattr(s, f"serves_{level.value}")

    open_ = [s for s in schools if wanted(s) and (s.closed_on is None or s.closed_on > day)]
    window = add_months(day, -months)
    paired, engaged = set(), set()
    for school, events, acts in facts:
        if school not in open_ or _status_on(events, day) != "active":
            continue
        paired.add(school.id)
        if any(window < a <= day for a in acts):
            engaged.add(school.id)
    return {"open": len(open_), "paired": len(paired), "engaged": len(engaged)}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("months", [3, 12])
def test_series_matches_the_definitions(session, seed, months):
    schools, facts = _world(session, seed)
    points = progress.month_points(date(2021, 3, 17), date(2025, 6, 20))
    points += [date(2024, 6, 20), date(2021, 3, 17)]
    for level in (None, Level.JUNIOR):
        got = progress.coverage_series(session, points, Filters(level=level), months)
        for day in sorted(set(points)):
            assert got[day] == _expected(schools, facts, day, months, level), (day, level)


def test_the_fixture_exercises_what_it_claims(session):
    """Guard against a generator that stops producing the hard cases."""
    facts = [fact for seed in (1, 2, 3) for fact in _world(session, seed)[1]]
    days = [a for _s, _e, acts in facts for a in acts]
    assert any(a.day == 1 for a in days)
    assert any(len({d for _st, d in e}) < len(e) for _s, e, _a in facts)
    statuses = {st for _s, e, _a in facts for st, _d in e}
    assert {PairingStatus.ACTIVE.value, PairingStatus.SUSPENDED.value} <= statuses

"""The demo data set: `flask seed-demo` loads a synthetic New Taipei City that matches the
published baseline, deterministically and idempotently."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pairing.accounts.models import User
from pairing.accounts.passwords import password_problems
from pairing.audit.models import AuditLog
from pairing.common.enums import ActivityMode, PairingStatus
from pairing.dashboard.models import Setting
from pairing.demo import DATA, DEMO_ACCOUNTS, build_plan, demo_loaded, seed
from pairing.extensions import db
from pairing.pairings.models import Activity, Pairing, PairingEvent
from pairing.partners.models import PartnerCity, PartnerSchool
from pairing.schools.models import District, School

from . import factories
from .conftest import make_test_app

BASELINE = date(2023, 12, 31)
TABLES = (District, School, PartnerCity, PartnerSchool, Pairing, PairingEvent, Activity, User,
          Setting, AuditLog)


def _invoke(app, runner, *args):
    """Run a flask command as `flask` would: inside an application context (the test runner
    uses app.cli, which does not push one for plain click commands)."""
    with app.app_context():
        result = runner.invoke(args=list(args))
        db.session.remove()
    return result


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _counts(session) -> dict[str, int]:
    return {m.__name__: _count(session, m) for m in TABLES}


def _fingerprint(session) -> str:
    """A checksum of every school code, partner, pairing and activity key."""
    parts = sorted(session.scalars(select(School.code)))
    parts += sorted(f"{n}|{c}|{t}" for n, c, t in session.execute(
        select(PartnerSchool.name, PartnerSchool.country, PartnerSchool.city)))
    parts += sorted(f"{code}|{partner}|{status}|{signed}" for code, partner, status, signed in
                    session.execute(select(School.code, PartnerSchool.name, Pairing.status,
                                           Pairing.signed_on)
                                    .join(Pairing.school).join(Pairing.partner_school)))
    parts += sorted(f"{code}|{start}|{title}" for code, start, title in session.execute(
        select(School.code, Activity.start_on, Activity.title)
        .join(Activity.pairing).join(Pairing.school)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _active_on(session, day: date) -> list[tuple[int, int, str]]:
    """(pairing, school, country) of pairings whose latest event on or before ``day`` is
    'active': the history the dashboard derives from events, computed independently here."""
    latest: dict[int, PairingStatus] = {}
    rows = session.execute(select(PairingEvent.pairing_id, PairingEvent.status)
                           .where(PairingEvent.effective_on <= day)
                           .order_by(PairingEvent.effective_on, PairingEvent.id))
    for pairing_id, status in rows:
        latest[pairing_id] = status
    info = {pid: (sid, country) for pid, sid, country in session.execute(
        select(Pairing.id, Pairing.school_id, PartnerSchool.country).join(Pairing.partner_school))}
    return [(pid, *info[pid]) for pid, st in latest.items() if st == PairingStatus.ACTIVE]


def test_seed_demo_loads_a_synthetic_city(runner, app):
    result = _invoke(app, runner, "seed-demo")
    assert result.exit_code == 0, result.output
    assert "340 schools" in result.output and "300 partner schools" in result.output

    with app.app_context():
        s = db.session
        schools = s.scalars(select(School).options(selectinload(School.district))).all()
        assert len(schools) == 340
        assert 210 <= sum(x.serves_primary for x in schools) <= 225
        assert 95 <= sum(x.serves_junior for x in schools) <= 105
        assert 58 <= sum(x.serves_senior for x in schools) <= 68
        assert any(x.serves_junior and x.serves_senior and not x.serves_primary
                   for x in schools)  # 完全中學
        all_three = [x for x in schools if x.serves_primary and x.serves_junior
                     and x.serves_senior]
        assert all_three and not any(x.is_public for x in all_three)
        assert 0.07 <= sum(not x.is_public for x in schools) / len(schools) <= 0.14

        codes = [x.code for x in schools]
        assert len(set(codes)) == 340 and all(len(c) == 6 for c in codes)
        assert all(c.startswith("0") for c in codes)
        assert 1 <= sum(not c.isdigit() for c in codes) <= 15
        assert all(x.name_zh.startswith("示範") and x.name_en.startswith("Demo ")
                   for x in schools)
        assert all(x.principal_email.endswith("@demo.example.org") for x in schools)
        assert all(x.address.startswith("新北市" + x.district.name_zh) for x in schools)
        assert all(x.enrolment is not None and x.principal_name for x in schools)
        closed = [x for x in schools if x.closed_on is not None]
        assert 2 <= len(closed) <= 3 and all(x.closed_on < date.today() for x in closed)

        # Every district has schools, in rough proportion to its population.
        per_district = Counter(x.district.name_zh for x in schools)
        assert _count(s, District) == 29 and len(per_district) == 29
        biggest = {name for name, _ in per_district.most_common(5)}
        assert biggest == {"板橋區", "新莊區", "中和區", "三重區", "新店區"}
        for small in ("坪林區", "烏來區", "石門區", "平溪區"):
            assert 2 <= per_district[small] <= 5

        partners = s.scalars(select(PartnerSchool)
                             .options(selectinload(PartnerSchool.partner_city))).all()
        assert len(partners) == 300
        assert len({p.country for p in partners}) == 21
        by_country = Counter(p.country for p in partners)
        assert by_country.most_common(1)[0][0] == "US"
        linked = Counter(p.partner_city.name for p in partners if p.partner_city)
        assert set(linked) == {"Saratoga", "Cupertino", "Aurora", "Johns Creek", "Holmdel"}
        assert all(p.city == p.partner_city.name for p in partners if p.partner_city)
        assert all(p.name.startswith("Demo ") and p.contact_email.endswith("@example.org")
                   for p in partners)
        assert all(p.levels for p in partners)

        assert demo_loaded(s)
        imports = s.scalars(select(AuditLog).where(AuditLog.action == "import")).all()
        assert len(imports) == 1 and imports[0].changes["schools"] == 340
        assert imports[0].user_email == "seed-demo"


def test_history_matches_the_published_baseline(app, session):
    today = date.today()
    seed(session)
    session.commit()

    baseline = _active_on(session, BASELINE)
    assert 75 <= len({school for _, school, _ in baseline}) <= 100
    assert 200 <= len(baseline) <= 280
    assert len({country for _, _, country in baseline}) == 21
    now = _active_on(session, today)
    assert 140 <= len({school for _, school, _ in now}) <= 170
    assert len(now) > len(baseline)

    pairings = session.scalars(select(Pairing).options(
        selectinload(Pairing.events), selectinload(Pairing.school),
        selectinload(Pairing.partner_school).selectinload(PartnerSchool.partner_city))).all()
    statuses = Counter(p.status for p in pairings)
    assert set(statuses) == set(PairingStatus)  # proposed, negotiating, active, suspended, ended
    signed = [p.signed_on for p in pairings if p.signed_on]
    assert min(signed) >= date(2015, 1, 1) and min(signed) < date(2016, 1, 1)
    for p in pairings:
        events = [(e.status, e.effective_on) for e in p.events]
        assert events, p
        dates = [d for _, d in events]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
        assert events[-1][0] == p.status and events[-1][1] <= today
        if p.signed_on:
            assert (PairingStatus.ACTIVE, p.signed_on) in events
            assert p.start_on == p.signed_on
        else:
            assert PairingStatus.ACTIVE not in {st for st, _ in events}
        if p.status == PairingStatus.ENDED:
            assert p.ended_on == events[-1][1]
        else:
            assert p.ended_on is None
    open_keys = Counter((p.school_id, p.partner_school_id) for p in pairings
                        if p.status != PairingStatus.ENDED)
    assert max(open_keys.values()) == 1
    # Partner-city schools joined after the 2023 MOUs (Cupertino, a twin city, from 2021).
    for p in pairings:
        city = p.partner_school.partner_city
        if city is not None and p.signed_on:
            assert p.signed_on >= (date(2021, 1, 1) if city.name == "Cupertino"
                                   else date(2023, 10, 5))
    # The closed school that had a partner: its pairing ended when it closed.
    closed_pairings = [p for p in pairings if p.school.closed_on is not None]
    assert closed_pairings and all(p.status == PairingStatus.ENDED
                                   and p.ended_on <= p.school.closed_on
                                   for p in closed_pairings)


def test_activities_from_2021_to_today(app, session):
    today = date.today()
    seed(session)
    session.commit()

    activities = session.scalars(select(Activity)).all()
    assert 1500 <= len(activities) <= 2500
    starts = [a.start_on for a in activities]
    assert min(starts) >= date(2021, 1, 1) and max(starts) <= today
    assert max(starts) >= today - timedelta(days=62)
    assert all(a.title.startswith("Demo ") for a in activities)
    assert all(a.end_on is None or a.end_on >= a.start_on for a in activities)
    assert all(0 < a.participants < 300 for a in activities)
    assert len({a.type for a in activities}) >= 6 and len({a.mode for a in activities}) == 3
    early = [a for a in activities if a.start_on.year <= 2022]
    later = [a for a in activities if a.start_on.year >= 2024]
    assert sum(a.mode == ActivityMode.VIRTUAL for a in early) / len(early) > 0.7
    assert sum(a.mode == ActivityMode.VIRTUAL for a in later) / len(later) < 0.6
    keys = [(a.pairing_id, a.start_on, a.title) for a in activities]
    assert len(set(keys)) == len(keys)

    # Activities happen only while the pairing is active.
    events = defaultdict(list)
    for e in session.scalars(select(PairingEvent).order_by(PairingEvent.effective_on,
                                                           PairingEvent.id)):
        events[e.pairing_id].append(e)
    for a in activities:
        before = [e.status for e in events[a.pairing_id] if e.effective_on <= a.start_on]
        assert before and before[-1] == PairingStatus.ACTIVE

    # Some active pairings are dormant: nothing in the last 12 months.
    latest = dict(session.execute(select(Activity.pairing_id, func.max(Activity.start_on))
                                  .group_by(Activity.pairing_id)).all())
    active = [p for p in session.scalars(select(Pairing)
                                         .where(Pairing.status == PairingStatus.ACTIVE))
              if p.signed_on < today - timedelta(days=365)]
    dormant = [p for p in active if latest.get(p.id, date.min) < today - timedelta(days=365)]
    assert 0.05 <= len(dormant) / len(active) <= 0.5


def test_running_twice_changes_nothing(runner, app):
    first = _invoke(app, runner, "seed-demo", "--if-empty")  # empty database: loads
    assert first.exit_code == 0 and "340 schools" in first.output
    with app.app_context():
        before, fingerprint = _counts(db.session), _fingerprint(db.session)
    assert before["School"] == 340 and before["Activity"] > 1000

    second = _invoke(app, runner, "seed-demo")
    assert second.exit_code == 0
    assert "nothing added" in second.output
    with app.app_context():
        assert _counts(db.session) == before
        assert _fingerprint(db.session) == fingerprint


def test_if_empty_leaves_a_database_with_schools_alone(runner, app):
    with app.app_context():
        factories.make_school(db.session, code="999001", name_zh="測試國小")
        db.session.commit()
        before = _counts(db.session)

    result = _invoke(app, runner, "seed-demo", "--if-empty")
    assert result.exit_code == 0
    assert "not loaded" in result.output
    with app.app_context():
        assert _counts(db.session) == before
        assert db.session.scalars(select(School.code)).all() == ["999001"]
        assert not demo_loaded(db.session)


def test_two_fresh_databases_get_the_same_data(app, session, tmp_path):
    seed(session)
    session.commit()
    fingerprint = _fingerprint(session)
    names = sorted(session.execute(select(School.code, School.name_zh, School.name_en)).all())

    other = make_test_app(f"sqlite:///{tmp_path / 'second.sqlite3'}")
    with other.app_context():
        db.create_all()
        seed(db.session)
        db.session.commit()
        assert _fingerprint(db.session) == fingerprint
        assert sorted(db.session.execute(
            select(School.code, School.name_zh, School.name_en)).all()) == names
        db.session.remove()
        db.engine.dispose()


def test_history_does_not_change_as_time_moves_on():
    with (DATA / "districts_new_taipei.csv").open(encoding="utf-8") as fh:
        districts = [{"name_zh": r["name_zh"], "name_en": r["name_en"]}
                     for r in csv.DictReader(fh)]
    cut = date(2025, 6, 30)
    earlier = build_plan(districts, cut)
    later = build_plan(districts, date(2026, 11, 27))

    def upto(plan):
        pairings = {(p.school_code, p.partner_key): [e for e in p.events if e[1] <= cut]
                    for p in plan.pairings}
        activities = {(p.school_code, p.partner_key, a["start_on"], a["title"], a["mode"])
                      for p in plan.pairings for a in p.activities if a["start_on"] <= cut}
        return {k: v for k, v in pairings.items() if v}, activities

    assert earlier.schools == later.schools and earlier.partners == later.partners
    assert upto(earlier) == upto(later)
    assert len(upto(later)[1]) < sum(len(p.activities) for p in later.pairings)


def test_demo_accounts_sign_in(app, session):
    seed(session)
    session.commit()
    roles = {a["role"] for a in DEMO_ACCOUNTS}
    assert roles == {"admin", "staff", "principal", "official"}
    for account in DEMO_ACCOUNTS:
        assert password_problems(account["password"]) == []
        client = app.test_client()
        resp = client.post("/auth/login", data={"email": account["email"],
                                                "password": account["password"]})
        assert resp.status_code == 302, account["email"]
        if account["role"] == "principal":
            school = session.scalar(select(School).where(School.code == account["school_code"]))
            assert resp.headers["Location"].endswith(f"/schools/{school.id}")
            assert any(p.status == PairingStatus.ACTIVE for p in school.pairings)
            assert school.closed_on is None

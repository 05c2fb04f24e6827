"""Small factories for tests: plain functions that add rows and flush, never commit."""

from __future__ import annotations

import itertools
from datetime import date
from functools import lru_cache

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from pairing.accounts.models import User
from pairing.common.enums import ActivityMode, ActivityType, PairingStatus, Role
from pairing.pairings.models import Activity, Pairing, PairingEvent
from pairing.partners.models import PartnerCity, PartnerSchool
from pairing.schools.models import District, School

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Cheap scrypt parameters keep sign-in fast in tests; production uses the defaults.
    return generate_password_hash(PASSWORD, method="scrypt:1024:8:1")


def make_district(session, name_zh: str | None = None, county: str = "新北市", **kw) -> District:
    n = next(_seq)
    name_zh = name_zh or f"測試{n}區"
    existing = session.scalar(select(District).where(District.county == county,
                                                     District.name_zh == name_zh))
    if existing:
        return existing
    district = District(county=county, name_zh=name_zh,
                        name_en=kw.pop("name_en", f"Test {n} District"),
                        postal_code=kw.pop("postal_code", str(200 + n % 60)), **kw)
    session.add(district)
    session.flush()
    return district


def make_school(session, code: str | None = None, district: District | None = None,
                levels=("primary",), **kw) -> School:
    n = next(_seq)
    school = School(
        code=code or f"{n:06d}",
        name_zh=kw.pop("name_zh", f"測試國小{n}"),
        name_en=kw.pop("name_en", f"Test School {n}"),
        district=district or make_district(session),
        is_public=kw.pop("is_public", True),
        **kw,
    )
    school.levels = levels
    session.add(school)
    session.flush()
    return school


def make_partner_city(session, name: str | None = None, **kw) -> PartnerCity:
    n = next(_seq)
    city = PartnerCity(name=name or f"Partner City {n}", country=kw.pop("country", "US"),
                       region=kw.pop("region", "California"),
                       signed_on=kw.pop("signed_on", date(2023, 10, 5)), **kw)
    session.add(city)
    session.flush()
    return city


def make_partner_school(session, name: str | None = None, **kw) -> PartnerSchool:
    n = next(_seq)
    partner = PartnerSchool(name=name or f"Partner School {n}", country=kw.pop("country", "US"),
                            city=kw.pop("city", "Holmdel"), region=kw.pop("region", "NJ"), **kw)
    partner.levels = kw.pop("levels", ("primary",)) if "levels" in kw else ("primary",)
    session.add(partner)
    session.flush()
    return partner


def make_pairing(session, school: School | None = None, partner: PartnerSchool | None = None,
                 status: PairingStatus | str = PairingStatus.ACTIVE,
                 signed_on: date | None = date(2023, 1, 15), ended_on: date | None = None,
                 events: list[tuple[str, date]] | None = None, **kw) -> Pairing:
    """A pairing plus its status history. ``events`` overrides the default history."""
    status = PairingStatus(status)
    pairing = Pairing(school=school or make_school(session),
                      partner_school=partner or make_partner_school(session),
                      status=status,
                      signed_on=signed_on if status in (PairingStatus.ACTIVE,
                                                        PairingStatus.SUSPENDED,
                                                        PairingStatus.ENDED) else None,
                      ended_on=ended_on, **kw)
    session.add(pairing)
    session.flush()
    if events is None:
        events = []
        if pairing.signed_on:
            events.append(("active", pairing.signed_on))
        if status == PairingStatus.ENDED and ended_on:
            events.append(("ended", ended_on))
        if status in (PairingStatus.PROPOSED, PairingStatus.NEGOTIATING):
            events.append((status.value, date(2023, 1, 1)))
    for ev_status, when in events:
        session.add(PairingEvent(pairing=pairing, status=PairingStatus(ev_status),
                                 effective_on=when))
    session.flush()
    return pairing


def make_activity(session, pairing: Pairing | None = None, start_on: date = date(2024, 3, 1),
                  **kw) -> Activity:
    n = next(_seq)
    activity = Activity(
        pairing=pairing or make_pairing(session),
        title=kw.pop("title", f"Exchange {n}"),
        type=kw.pop("type", ActivityType.VIRTUAL),
        mode=kw.pop("mode", ActivityMode.VIRTUAL),
        start_on=start_on,
        **kw,
    )
    session.add(activity)
    session.flush()
    return activity


def make_user(session, role: Role | str = Role.STAFF, school: School | None = None,
              email: str | None = None, **kw) -> User:
    n = next(_seq)
    role = Role(role)
    if role == Role.PRINCIPAL and school is None:
        school = make_school(session)
    user = User(email=email or f"user{n}@example.org", name=kw.pop("name", f"User {n}"),
                role=role, school_id=school.id if school is not None else None,
                password_hash=_password_hash(), **kw)
    session.add(user)
    session.flush()
    return user

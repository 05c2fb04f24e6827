"""Partner schools and partner cities: list queries (shared with the export), loading,
uniqueness checks and delete rules. Saving goes through ``schools.service.save_form``."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select, distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ..common.enums import Level, PairingStatus
from ..common.i18n import country_name
from ..common.lists import search_clause
from ..extensions import db
from ..pairings.models import Pairing
from ..schools.models import School
from ..schools.service import sort_columns
from .models import PartnerCity, PartnerSchool

PARTNER_FIELDS = ["name", "name_local", "country", "region", "city", "levels", "website",
                  "contact_name", "contact_email", "partner_city_id"]
CITY_FIELDS = ["name", "name_zh", "country", "region", "signed_on", "twinned_on", "notes"]

#: Query-string keys the lists understand, besides ``sort`` and ``page``.
PARTNER_FILTER_KEYS = ("q", "country", "partner_city", "level")
CITY_FILTER_KEYS = ("q", "country")


def parse_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def paired_schools_count():
    """Correlated count of distinct local schools in an active pairing with the partner."""
    return (select(func.count(distinct(Pairing.school_id)))
            .where(Pairing.partner_school_id == PartnerSchool.id,
                   Pairing.status == PairingStatus.ACTIVE)
            .correlate(PartnerSchool)
            .scalar_subquery())


def partner_list_query(params: Mapping[str, str]) -> Select:
    """Rows of ``(PartnerSchool, paired_schools)`` filtered and sorted by query-string keys.

    Keys: ``q`` (name, local name, city), ``country`` (alpha-2), ``partner_city`` (id, or
    ``none`` for schools outside any city agreement), ``level`` (primary/junior/senior),
    ``sort`` (name, country, city, paired; ``-`` for descending). ``paired_schools`` counts
    the local schools in an active pairing with it. The partner city is loaded in the query.
    """
    paired = paired_schools_count()
    stmt = (select(PartnerSchool, paired.label("paired_schools"))
            .outerjoin(PartnerSchool.partner_city)
            .options(contains_eager(PartnerSchool.partner_city)))
    clause = search_clause(params.get("q"), PartnerSchool.name, PartnerSchool.name_local,
                           PartnerSchool.city)
    if clause is not None:
        stmt = stmt.where(clause)
    country = (params.get("country") or "").strip().upper()
    if country:
        stmt = stmt.where(PartnerSchool.country == country)
    city = params.get("partner_city")
    if city == "none":
        stmt = stmt.where(PartnerSchool.partner_city_id.is_(None))
    elif parse_int(city) is not None:
        stmt = stmt.where(PartnerSchool.partner_city_id == parse_int(city))
    level = params.get("level")
    if level in {m.value for m in Level}:
        flag = {"primary": PartnerSchool.serves_primary, "junior": PartnerSchool.serves_junior,
                "senior": PartnerSchool.serves_senior}[level]
        stmt = stmt.where(flag.is_(True))
    sorts = {
        "name": PartnerSchool.name,
        "country": [PartnerSchool.country, PartnerSchool.name],
        "city": [PartnerSchool.city, PartnerSchool.name],
        "paired": [paired, PartnerSchool.name],
    }
    return stmt.order_by(*sort_columns(params.get("sort"), sorts, "name"), PartnerSchool.id)


def city_list_query(params: Mapping[str, str]) -> Select:
    """Rows of ``(PartnerCity, partner_schools, active_pairings)``, counted in SQL."""
    n_schools = (select(func.count(PartnerSchool.id))
                 .where(PartnerSchool.partner_city_id == PartnerCity.id)
                 .correlate(PartnerCity).scalar_subquery())
    n_active = (select(func.count(Pairing.id))
                .join(PartnerSchool, Pairing.partner_school_id == PartnerSchool.id)
                .where(PartnerSchool.partner_city_id == PartnerCity.id,
                       Pairing.status == PairingStatus.ACTIVE)
                .correlate(PartnerCity).scalar_subquery())
    stmt = select(PartnerCity, n_schools.label("partner_schools"),
                  n_active.label("active_pairings"))
    clause = search_clause(params.get("q"), PartnerCity.name, PartnerCity.name_zh,
                           PartnerCity.region)
    if clause is not None:
        stmt = stmt.where(clause)
    country = (params.get("country") or "").strip().upper()
    if country:
        stmt = stmt.where(PartnerCity.country == country)
    sorts = {
        "name": PartnerCity.name,
        "country": [PartnerCity.country, PartnerCity.name],
        "signed": [PartnerCity.signed_on, PartnerCity.name],
        "schools": [n_schools, PartnerCity.name],
    }
    return stmt.order_by(*sort_columns(params.get("sort"), sorts, "name"), PartnerCity.id)


def countries_in_use(column) -> list[tuple[str, str]]:
    """(alpha-2, name) for the countries that appear in ``column``, sorted by name."""
    codes = db.session.scalars(select(column).distinct())
    return sorted(((c, country_name(c)) for c in codes if c), key=lambda kv: kv[1])


def all_cities() -> list[PartnerCity]:
    return list(db.session.scalars(select(PartnerCity).order_by(PartnerCity.name)))


def get_partner_detail(partner_id: int) -> PartnerSchool | None:
    stmt = (select(PartnerSchool).where(PartnerSchool.id == partner_id)
            .options(joinedload(PartnerSchool.partner_city),
                     selectinload(PartnerSchool.pairings).joinedload(Pairing.school)
                     .joinedload(School.district)))
    return db.session.scalar(stmt)


def partner_school_taken(name: str | None, country: str | None, city: str | None,
                         exclude_id: int | None = None) -> bool:
    stmt = select(PartnerSchool.id).where(PartnerSchool.name == name,
                                          PartnerSchool.country == country,
                                          PartnerSchool.city == (city or ""))
    if exclude_id is not None:
        stmt = stmt.where(PartnerSchool.id != exclude_id)
    return db.session.scalar(stmt) is not None


def city_taken(name: str | None, country: str | None, region: str | None,
               exclude_id: int | None = None) -> bool:
    region_clause = (PartnerCity.region.is_(None) if region is None
                     else PartnerCity.region == region)
    stmt = select(PartnerCity.id).where(PartnerCity.name == name,
                                        PartnerCity.country == country, region_clause)
    if exclude_id is not None:
        stmt = stmt.where(PartnerCity.id != exclude_id)
    return db.session.scalar(stmt) is not None


def partner_delete_refusal(partner: PartnerSchool) -> str | None:
    n = db.session.scalar(select(func.count()).select_from(Pairing)
                          .where(Pairing.partner_school_id == partner.id))
    if n:
        return ngettext(
            "This partner school is in %(num)d pairing, so it cannot be deleted: the "
            "pairing's history would be lost. End the pairing instead.",
            "This partner school is in %(num)d pairings, so it cannot be deleted: their "
            "history would be lost. End the pairings instead.", n)
    return None


def city_delete_refusal(city: PartnerCity) -> str | None:
    n = db.session.scalar(select(func.count()).select_from(PartnerSchool)
                          .where(PartnerSchool.partner_city_id == city.id))
    if n:
        return ngettext(
            "%(num)d partner school sits under this city agreement, so it cannot be deleted. "
            "Remove the partner city from that school first.",
            "%(num)d partner schools sit under this city agreement, so it cannot be deleted. "
            "Remove the partner city from those schools first.", n)
    return None


def delete_record(obj, refusal: str | None) -> str | None:
    """Delete ``obj`` and commit unless refused; returns the refusal message, if any."""
    if refusal:
        return refusal
    db.session.delete(obj)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _("Other records still refer to this record, so it cannot be deleted.")
    return None

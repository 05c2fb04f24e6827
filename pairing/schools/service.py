"""Schools: the list query (shared with the export), loading, saving and deleting.

``save_form`` is also used by the partner pages: it applies a form to a versioned record,
refusing a stale version and turning database constraint errors into a result the view can
show, so every feature saves the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from wtforms import Form

from ..accounts.models import User
from ..common.concurrency import FieldConflict, stale_changes
from ..common.enums import Level, PairingStatus
from ..common.lists import search_clause
from ..extensions import db
from ..pairings.models import Pairing
from .models import District, School

#: Fields of the full school form, in form order; principals get only CONTACT_FIELDS.
SCHOOL_FIELDS = ["code", "name_zh", "name_en", "district_id", "levels", "is_public", "address",
                 "phone", "website", "principal_name", "principal_email", "enrolment",
                 "closed_on"]
CONTACT_FIELDS = ["address", "phone", "website", "principal_name", "principal_email"]

#: Query-string keys the list (and the export) understand, besides ``sort`` and ``page``.
FILTER_KEYS = ("q", "county", "district", "level", "sector", "paired", "state")


def paired_clause():
    """EXISTS (an active pairing of this school): the definition of 'paired'."""
    return exists().where(Pairing.school_id == School.id,
                          Pairing.status == PairingStatus.ACTIVE)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def sort_columns(key: str | None, allowed: dict, default: str) -> list:
    """ORDER BY columns for ``sort=key`` / ``sort=-key`` (unknown keys fall back to default)."""
    key = key or default
    desc = key.startswith("-")
    cols = allowed.get(key.lstrip("-"))
    if cols is None:
        desc = default.startswith("-")
        cols = allowed[default.lstrip("-")]
    if not isinstance(cols, list | tuple):
        cols = [cols]
    return [c.desc() if desc else c.asc() for c in cols]


SCHOOL_SORTS = {
    "code": School.code,
    "name": [School.name_zh, School.code],
    "district": [District.name_zh, School.code],
}


def school_list_query(params: Mapping[str, str]) -> Select:
    """Rows of ``(School, paired)`` filtered and sorted by the list's query-string keys.

    Keys: ``q`` (code, Chinese or English name), ``county``, ``district`` (id), ``level``
    (primary/junior/senior: a school counts in every level it serves), ``sector``
    (public/private), ``paired`` (yes/no: has an active pairing), ``state`` (open/closed),
    ``sort`` (code, name, district; ``-`` for descending). Unknown values are ignored.
    The school's district is loaded in the same query.
    """
    paired = paired_clause()
    stmt = (select(School, paired.label("paired"))
            .join(School.district)
            .options(contains_eager(School.district)))
    clause = search_clause(params.get("q"), School.code, School.name_zh, School.name_en)
    if clause is not None:
        stmt = stmt.where(clause)
    if params.get("county"):
        stmt = stmt.where(District.county == params["county"])
    district_id = _int(params.get("district"))
    if district_id is not None:
        stmt = stmt.where(School.district_id == district_id)
    level = params.get("level")
    if level in {m.value for m in Level}:
        flag = {"primary": School.serves_primary, "junior": School.serves_junior,
                "senior": School.serves_senior}[level]
        stmt = stmt.where(flag.is_(True))
    sector = params.get("sector")
    if sector == "public":
        stmt = stmt.where(School.is_public.is_(True))
    elif sector == "private":
        stmt = stmt.where(School.is_public.is_(False))
    if params.get("paired") == "yes":
        stmt = stmt.where(paired)
    elif params.get("paired") == "no":
        stmt = stmt.where(~paired)
    today = date.today()
    if params.get("state") == "open":
        stmt = stmt.where(or_(School.closed_on.is_(None), School.closed_on > today))
    elif params.get("state") == "closed":
        stmt = stmt.where(School.closed_on <= today)
    order = sort_columns(params.get("sort"), SCHOOL_SORTS, "code")
    return stmt.order_by(*order, School.id)


def districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.postal_code,
                                                               District.name_zh)))


def get_school_detail(school_id: int) -> School | None:
    """The school with its district; its pairings come from the status panel's query."""
    return db.session.scalar(select(School).where(School.id == school_id)
                             .options(joinedload(School.district)))


def code_taken(code: str | None, exclude_id: int | None = None) -> bool:
    if not code:
        return False
    stmt = select(School.id).where(School.code == code)
    if exclude_id is not None:
        stmt = stmt.where(School.id != exclude_id)
    return db.session.scalar(stmt) is not None


# --- saving versioned records from forms -------------------------------------------------

@dataclass
class SaveResult:
    saved: bool
    #: Set when the form was based on a stale version: field, saved value, submitted value.
    conflicts: list[FieldConflict] | None = None
    #: The database's message when a constraint refused the change (already rolled back).
    integrity_error: str | None = None


def readable_conflicts(obj, form: Form, fields: list[str]) -> list[FieldConflict] | None:
    """``stale_changes`` with choice fields shown by their labels, not their stored values."""
    conflicts = stale_changes(obj, form, fields)
    if not conflicts:
        return conflicts
    by_label = {str(form[name].label.text): form[name] for name in fields}
    for conflict in conflicts:
        field = by_label.get(conflict.label)
        choices = getattr(field, "choices", None)
        if not choices or getattr(field, "type", "") == "MultiCheckboxField":
            continue
        labels = {}
        for choice in choices:
            value, label = (choice.value, choice.label) if hasattr(choice, "value") else choice
            try:
                labels[str(field.coerce(value))] = str(label)
            except (TypeError, ValueError):
                continue
        conflict.saved = labels.get(conflict.saved, conflict.saved)
        conflict.yours = labels.get(conflict.yours, conflict.yours)
    return conflicts


def save_form(obj, form: Form, fields: list[str], *, new: bool = False) -> SaveResult:
    """Copy ``fields`` from the form onto ``obj`` and commit, unless the form is stale.

    Nothing is written when the version the form was loaded with is no longer current
    (checked first, and again by the UPDATE's ``WHERE version = …``), or when a database
    constraint refuses the change; the session is rolled back in both cases.
    """
    if not new:
        conflicts = readable_conflicts(obj, form, fields)
        if conflicts is not None:
            return SaveResult(False, conflicts=conflicts)
    for name in fields:
        setattr(obj, name, form[name].data)
    if new:
        db.session.add(obj)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        try:
            conflicts = readable_conflicts(obj, form, fields) or []
        except ObjectDeletedError:
            conflicts = []
        return SaveResult(False, conflicts=conflicts)
    except IntegrityError as exc:
        db.session.rollback()
        return SaveResult(False, integrity_error=str(exc.orig))
    return SaveResult(True)


# --- deleting ------------------------------------------------------------------------------

def delete_refusal(school: School) -> str | None:
    """Why this school may not be deleted, or None when it may."""
    n_pairings = db.session.scalar(
        select(func.count()).select_from(Pairing).where(Pairing.school_id == school.id))
    if n_pairings:
        return ngettext(
            "This school has %(num)d pairing, so it cannot be deleted: its history would be "
            "lost. If the school has closed, edit it and set the date it closed instead.",
            "This school has %(num)d pairings, so it cannot be deleted: their history would "
            "be lost. If the school has closed, edit it and set the date it closed instead.",
            n_pairings)
    n_users = db.session.scalar(
        select(func.count()).select_from(User).where(User.school_id == school.id))
    if n_users:
        return ngettext(
            "%(num)d user account belongs to this school. Move or delete that account first.",
            "%(num)d user accounts belong to this school. Move or delete those accounts first.",
            n_users)
    return None


def delete_school(school: School) -> str | None:
    """Delete the school and commit; returns a refusal message instead when it may not go."""
    reason = delete_refusal(school)
    if reason:
        return reason
    db.session.delete(school)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _("Other records still refer to this school, so it cannot be deleted.")
    return None

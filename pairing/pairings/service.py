"""The one place that changes pairings and activities, and the list queries.

Why a service: the dashboard rebuilds "which schools were paired in month M" from the dated
status history (``PairingEvent``), not from today's ``Pairing.status``. Every change of a
pairing therefore goes through ``create_pairing`` / ``update_pairing``, which validate the
rules and keep the events in step with the record. Views, imports and CLI commands call these
functions; they flush but never commit, so the caller ends the transaction (and catches
``IntegrityError`` as a last line: the same rules live in the database).

Rules for a pairing (each refusal names a field, see ``PairingRuleError``):

- ``active`` requires ``signed_on``; ``ended`` requires ``ended_on``; only an ended pairing
  has ``ended_on``.
- ``end_on`` (agreement expiry or renewal) is on or after ``start_on``; ``ended_on`` is on or
  after ``signed_on``.
- At most one pairing per school and partner school that is not ended (also the partial
  unique index ``uq_pairing_open_per_partner``).
- Principals may only choose ``proposed`` or ``negotiating`` and only for their own school
  (``allowed_pairing_statuses``, ``can_manage_school_records``); ``NotAllowed`` otherwise.

Rules for the status history (``PairingEvent``): when the status changes, one event is
appended, dated the day the new status took effect:

- ``active``: ``signed_on`` for the first activation; later re-activations (after a
  suspension, say) use the "status effective date" field (``effective_on``, default today);
- ``suspended``, ``proposed``, ``negotiating``: the effective date;
- ``ended``: ``ended_on``.

A pairing that reaches ``suspended`` or ``ended`` with a ``signed_on`` but no activation on
record first gets an ``active`` event at ``signed_on``, so "active 2023-01 to 2024-06, then
ended" is always ``[active 2023-01-xx, ended 2024-06-xx]``. Proposed/negotiating events
recorded later than the first activation's date (a pairing entered as a proposal today and
then marked active with last year's signing date) are moved back to that date, since the
pairing was necessarily at that stage before it was signed.

When ``signed_on`` or ``ended_on`` are edited without a status change, the matching event
moves: the first ``active`` event follows ``signed_on``, the latest ``ended`` event follows
``ended_on``. A change that would put an event before an earlier one (e.g. suspending
effective before the last recorded change) is refused with a message naming that date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, joinedload

from ..accounts.permissions import allowed_pairing_statuses, can_manage_school_records
from ..common.enums import ActivityMode, ActivityType, Level, PairingStatus
from ..common.lists import search_clause
from ..partners.models import PartnerSchool
from ..schools.models import District, School
from .models import Activity, Pairing, PairingEvent

PAIRING_FIELDS = ("school_id", "partner_school_id", "status", "signed_on", "start_on", "end_on",
                  "ended_on", "focus_areas", "coordinator", "notes")
ACTIVITY_FIELDS = ("title", "type", "mode", "start_on", "end_on", "local_students",
                   "local_teachers", "partner_students", "partner_teachers", "description",
                   "evidence_url")
PRE_SIGNING = (PairingStatus.PROPOSED, PairingStatus.NEGOTIATING)


class NotAllowed(Exception):
    """The actor may not make this change (views answer 403)."""


@dataclass
class PairingRuleError(Exception):
    """The data breaks a rule. ``errors`` maps a field name ('' for the whole form) to
    messages, so a view can show each one next to its field."""

    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def __str__(self) -> str:
        return "; ".join(m for msgs in self.errors.values() for m in msgs)


# --------------------------------------------------------------------------- pairings


def _check_permission(data: Mapping, actor, pairing: Pairing | None) -> None:
    if actor is None:  # CLI, imports: the caller decides
        return
    if not can_manage_school_records(data.get("school_id"), actor):
        raise NotAllowed
    if pairing is not None and not can_manage_school_records(pairing.school_id, actor):
        raise NotAllowed
    allowed = allowed_pairing_statuses(actor)
    if PairingStatus(data["status"]) not in allowed:
        raise NotAllowed
    if pairing is not None and pairing.status not in allowed:
        raise NotAllowed


def _validate(session: Session, data: Mapping, pairing: Pairing | None) -> PairingRuleError:
    errors = PairingRuleError()
    status = PairingStatus(data["status"])
    signed_on, ended_on = data.get("signed_on"), data.get("ended_on")
    start_on, end_on = data.get("start_on"), data.get("end_on")

    if session.get(School, data.get("school_id") or 0) is None:
        errors.add("school_id", _("Choose an existing school."))
    if session.get(PartnerSchool, data.get("partner_school_id") or 0) is None:
        errors.add("partner_school_id", _("Choose an existing partner school."))
    if status == PairingStatus.ACTIVE and signed_on is None:
        errors.add("signed_on", _("An active pairing needs the date it was signed."))
    if status == PairingStatus.ENDED and ended_on is None:
        errors.add("ended_on", _("An ended pairing needs the date it ended."))
    if status != PairingStatus.ENDED and ended_on is not None:
        errors.add("ended_on", _("Only an ended pairing has an end date. Clear the date or "
                                 "set the status to ended."))
    if start_on and end_on and end_on < start_on:
        errors.add("end_on", _("The end or renewal date cannot be before the start date."))
    if signed_on and ended_on and ended_on < signed_on:
        errors.add("ended_on", _("The pairing cannot end before it was signed."))

    if status != PairingStatus.ENDED and not errors.errors:
        stmt = select(Pairing).where(
            Pairing.school_id == data["school_id"],
            Pairing.partner_school_id == data["partner_school_id"],
            Pairing.status != PairingStatus.ENDED,
        )
        if pairing is not None and pairing.id is not None:
            stmt = stmt.where(Pairing.id != pairing.id)
        other = session.scalars(stmt.limit(1)).first()
        if other is not None:
            errors.add("partner_school_id", _(
                "These two schools already have a pairing that has not ended (#%(id)s, "
                "%(status)s). Edit that pairing, or end it first.",
                id=other.id, status=other.status.label))
    return errors


def _effective_date(status: PairingStatus, data: Mapping, first_activation: bool) -> tuple:
    """(date, field that supplied it) for an event recording a change to ``status``."""
    if status == PairingStatus.ENDED:
        return data["ended_on"], "ended_on"
    if status == PairingStatus.ACTIVE and first_activation:
        return data["signed_on"], "signed_on"
    return data.get("effective_on") or date.today(), "effective_on"


def _too_early(errors: PairingRuleError, name: str, last: date) -> None:
    errors.add(name, _("This date is before the last recorded status change (%(date)s): the "
                       "history must stay in order.", date=format_date(last)))


@dataclass
class _Entry:
    """An event as planned: the existing row (or None for a new one), its status and date."""

    status: PairingStatus
    when: date
    event: PairingEvent | None = None


def _plan_events(pairing: Pairing, old_status: PairingStatus | None, old_signed: date | None,
                 old_ended: date | None, data: Mapping) -> list[_Entry]:
    """The status history after this change (see the module docstring), oldest first.

    Planned on plain entries so that a refusal leaves the pairing and its events untouched.
    """
    errors = PairingRuleError()
    entries = [_Entry(e.status, e.effective_on, e) for e in pairing.events]
    new_status = PairingStatus(data["status"])
    signed_on, ended_on = data.get("signed_on"), data.get("ended_on")
    activations = [e for e in entries if e.status == PairingStatus.ACTIVE]

    # 1. Edited dates move their events.
    if activations and signed_on and signed_on != old_signed:
        first = activations[0]
        later = [e.when for e in entries if e is not first and e.status not in PRE_SIGNING
                 and e.when >= first.when]
        if later and signed_on > min(later):
            errors.add("signed_on", _(
                "The signing date cannot be after a later status change (%(date)s).",
                date=format_date(min(later))))
        else:
            first.when = signed_on
            _pull_back_proposals(entries, signed_on)
    if (old_status == PairingStatus.ENDED and new_status == PairingStatus.ENDED and ended_on
            and ended_on != old_ended):
        ends = [e for e in entries if e.status == PairingStatus.ENDED]
        if ends:
            others = [e.when for e in entries if e is not ends[-1]]
            if others and ended_on < max(others):
                _too_early(errors, "ended_on", max(others))
            else:
                ends[-1].when = ended_on

    # 2. A changed status appends an event.
    if new_status != old_status:
        if (new_status in (PairingStatus.SUSPENDED, PairingStatus.ENDED) and not activations
                and signed_on):
            activation = _Entry(PairingStatus.ACTIVE, signed_on)
            _pull_back_proposals(entries, signed_on)
            entries.append(activation)
            activations.append(activation)
        when, source = _effective_date(new_status, data, first_activation=not activations)
        if new_status == PairingStatus.ACTIVE and not activations:
            _pull_back_proposals(entries, when)
        last = max((e.when for e in entries), default=None)
        if last is not None and when < last:
            _too_early(errors, source, last)
        entries.append(_Entry(new_status, when))
    if errors.errors:
        raise errors
    return entries


def _pull_back_proposals(entries: list[_Entry], signed_on: date) -> None:
    for entry in entries:
        if entry.status in PRE_SIGNING and entry.when > signed_on:
            entry.when = signed_on


def _store_events(pairing: Pairing, entries: list[_Entry]) -> None:
    for entry in entries:
        if entry.event is None:
            pairing.events.append(PairingEvent(status=entry.status, effective_on=entry.when))
        elif entry.event.effective_on != entry.when:
            entry.event.effective_on = entry.when


def _apply(pairing: Pairing, data: Mapping) -> None:
    for name in PAIRING_FIELDS:
        if name in data:
            value = data[name]
            if name == "status":
                value = PairingStatus(value)
            setattr(pairing, name, value)


def create_pairing(session: Session, data: Mapping, actor=None) -> Pairing:
    """Validate and add a pairing with its first status event(s); flushes, never commits.

    ``data`` holds the model fields in ``PAIRING_FIELDS`` plus an optional ``effective_on``
    (the day a proposed/negotiating/suspended status took effect; default today).
    ``actor`` is the signed-in user (None for trusted callers such as the CLI).
    Raises ``NotAllowed`` or ``PairingRuleError``.
    """
    _check_permission(data, actor, None)
    errors = _validate(session, data, None)
    if errors.errors:
        raise errors
    pairing = Pairing()
    _apply(pairing, data)
    _store_events(pairing, _plan_events(pairing, None, None, None, data))
    session.add(pairing)
    session.flush()
    return pairing


def update_pairing(session: Session, pairing: Pairing, data: Mapping, actor=None) -> Pairing:
    """Validate and change ``pairing``, appending or moving status events; flushes only.

    The caller checks the form's version first (``stale_changes``); the UPDATE itself carries
    the loaded version, so a concurrent save raises ``StaleDataError`` at flush.
    Raises ``NotAllowed`` or ``PairingRuleError``; on an error nothing is changed.
    """
    _check_permission(data, actor, pairing)
    errors = _validate(session, data, pairing)
    if errors.errors:
        raise errors
    entries = _plan_events(pairing, pairing.status, pairing.signed_on, pairing.ended_on, data)
    with session.no_autoflush:
        _apply(pairing, data)
        _store_events(pairing, entries)
    session.flush()
    return pairing


def delete_pairing(session: Session, pairing: Pairing) -> bool:
    """Delete a pairing that has no activities (its events go with it). False when refused."""
    has_activities = session.scalar(
        select(Activity.id).where(Activity.pairing_id == pairing.id).limit(1)) is not None
    if has_activities:
        return False
    session.delete(pairing)
    session.flush()
    return True


# --------------------------------------------------------------------------- activities


def save_activity(session: Session, activity: Activity, data: Mapping) -> Activity:
    """Copy the activity fields from ``data`` and flush (the form validated them)."""
    for name in ACTIVITY_FIELDS:
        if name in data:
            value = data[name]
            if name == "type":
                value = ActivityType(value)
            elif name == "mode":
                value = ActivityMode(value)
            setattr(activity, name, value)
    session.add(activity)
    session.flush()
    return activity


def delete_activity(session: Session, activity: Activity) -> None:
    session.delete(activity)
    session.flush()


# --------------------------------------------------------------------------- list queries


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _enum(enum_cls, value):
    try:
        return enum_cls(value) if value else None
    except ValueError:
        return None


PAIRING_SORTS = {
    "school": (School.code,),
    "partner": (PartnerSchool.name,),
    "country": (PartnerSchool.country, PartnerSchool.name),
    "status": (Pairing.status,),
    "signed": (Pairing.signed_on,),
    "district": (District.name_zh, School.code),
}
ACTIVITY_SORTS = {
    "start": (Activity.start_on,),
    "title": (Activity.title,),
    "school": (School.code,),
    "type": (Activity.type,),
    "students": (Activity.local_students,),
}


def _order(stmt: Select, params: Mapping, sorts: dict, default: str, tiebreak) -> Select:
    key = str(params.get("sort") or default)
    desc = key.startswith("-")
    cols = sorts.get(key.lstrip("-"))
    if cols is None:
        desc = default.startswith("-")
        cols = sorts[default.lstrip("-")]
    return stmt.order_by(*[(c.desc() if desc else c.asc()) for c in cols], tiebreak.desc()
                         if desc else tiebreak.asc())


def _level_clause(level: Level | None):
    if level is None:
        return None
    return {Level.PRIMARY: School.serves_primary, Level.JUNIOR: School.serves_junior,
            Level.SENIOR: School.serves_senior}[level].is_(True)


def pairing_list_query(params: Mapping) -> Select:
    """Pairings filtered by a query string (``request.args`` or any mapping), eager-loaded.

    Keys: ``q`` (school code, Chinese or English name, partner school name), ``status``,
    ``country`` (alpha-2), ``partner_city`` (id), ``district`` (id), ``level``,
    ``signed_from``/``signed_to`` (ISO dates, inclusive), ``sort`` (a key of PAIRING_SORTS,
    ``-`` for descending). Unknown or malformed values are ignored.
    """
    stmt = (
        select(Pairing)
        .join(Pairing.school)
        .join(School.district)
        .join(Pairing.partner_school)
        .options(joinedload(Pairing.school).joinedload(School.district),
                 joinedload(Pairing.partner_school).joinedload(PartnerSchool.partner_city))
    )
    clauses = [
        search_clause(params.get("q"), School.code, School.name_zh, School.name_en,
                      PartnerSchool.name, PartnerSchool.name_local),
        _level_clause(_enum(Level, params.get("level"))),
    ]
    status = _enum(PairingStatus, params.get("status"))
    if status is not None:
        clauses.append(Pairing.status == status)
    country = (params.get("country") or "").strip().upper()
    if country:
        clauses.append(PartnerSchool.country == country)
    city = _int(params.get("partner_city"))
    if city is not None:
        clauses.append(PartnerSchool.partner_city_id == city)
    district = _int(params.get("district"))
    if district is not None:
        clauses.append(School.district_id == district)
    signed_from, signed_to = _date(params.get("signed_from")), _date(params.get("signed_to"))
    if signed_from:
        clauses.append(Pairing.signed_on >= signed_from)
    if signed_to:
        clauses.append(Pairing.signed_on <= signed_to)
    clauses = [c for c in clauses if c is not None]
    if clauses:
        stmt = stmt.where(and_(*clauses))
    return _order(stmt, params, PAIRING_SORTS, "school", Pairing.id)


def activity_list_query(params: Mapping) -> Select:
    """Activities filtered by a query string, newest first by default, eager-loaded.

    Keys: ``q`` (title, school code or names), ``type``, ``mode``, ``date_from``/``date_to``
    (the activity's start date, inclusive), ``district`` (id), ``country`` (partner school's
    alpha-2), ``pairing`` (id), ``school`` (id), ``sort`` (a key of ACTIVITY_SORTS).
    """
    stmt = (
        select(Activity)
        .join(Activity.pairing)
        .join(Pairing.school)
        .join(Pairing.partner_school)
        .options(joinedload(Activity.pairing).joinedload(Pairing.school)
                 .joinedload(School.district),
                 joinedload(Activity.pairing).joinedload(Pairing.partner_school))
    )
    clauses = [search_clause(params.get("q"), Activity.title, School.code, School.name_zh,
                             School.name_en)]
    kind = _enum(ActivityType, params.get("type"))
    if kind is not None:
        clauses.append(Activity.type == kind)
    mode = _enum(ActivityMode, params.get("mode"))
    if mode is not None:
        clauses.append(Activity.mode == mode)
    date_from, date_to = _date(params.get("date_from")), _date(params.get("date_to"))
    if date_from:
        clauses.append(or_(Activity.start_on >= date_from, Activity.end_on >= date_from))
    if date_to:
        clauses.append(Activity.start_on <= date_to)
    for key, column in (("district", School.district_id), ("pairing", Activity.pairing_id),
                        ("school", Pairing.school_id)):
        value = _int(params.get(key))
        if value is not None:
            clauses.append(column == value)
    country = (params.get("country") or "").strip().upper()
    if country:
        clauses.append(PartnerSchool.country == country)
    clauses = [c for c in clauses if c is not None]
    if clauses:
        stmt = stmt.where(and_(*clauses))
    return _order(stmt, params, ACTIVITY_SORTS, "-start", Activity.id)

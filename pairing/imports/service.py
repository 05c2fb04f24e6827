"""Plan and apply an import.

``build_plan`` reads a :class:`~.readers.Table` against the database (a few bulk queries, never
one per row) and decides for each row: new, changed (with the changes), unchanged, skipped or
invalid. Nothing is written while planning, so the preview is safe. ``apply_plan`` then runs the
planned writes in the caller's transaction and records one audit entry for the whole import;
the caller commits, or rolls back on any error so that nothing changes.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..audit import tracking
from ..common.enums import Level, PairingStatus
from ..common.i18n import county_name
from ..pairings.models import OPEN_STATUSES, Activity, Pairing
from ..partners.models import PartnerCity, PartnerSchool
from ..schools.models import District, School
from . import ministry
from .readers import FileProblem, Table
from .specs import (
    COLUMNS,
    BadValue,
    CellError,
    Column,
    country_words,
    header_map,
    normalise_header,
    parse_cell,
    parse_code,
)

ACTIONS = ("new", "changed", "unchanged", "skipped", "invalid")


class ImportRefused(Exception):
    """Raised by apply_plan when invalid rows block the import."""


@dataclass
class RowResult:
    row: int
    label: str = ""
    action: str = "unchanged"
    changes: dict[str, list] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)
    reason: str = ""
    write: Callable[[Session], None] | None = None


@dataclass
class Plan:
    kind: str
    filename: str
    encoding: str
    format: str = "template"  # template or ministry
    level: Level | None = None
    rows: list[RowResult] = field(default_factory=list)
    #: Ministry imports: (code, name) of schools of this level in the jurisdiction not in the file
    missing: list[tuple[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    #: column key -> the header the file used for it (errors name the file's own header)
    header_for: dict[str, str] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTIONS, 0)
        for r in self.rows:
            counts[r.action] += 1
        if self.format == "ministry":
            counts["missing"] = len(self.missing)
        return counts

    @property
    def errors(self) -> list[CellError]:
        return [e for r in self.rows for e in r.errors]

    def by_action(self, action: str) -> list[RowResult]:
        return [r for r in self.rows if r.action == action]


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, District):
        return f"{value.county}{value.name_zh}"
    return str(value)


def _diff(obj, values: dict) -> dict[str, list]:
    """{attr: [old, new]} for the attributes in ``values`` that differ on ``obj``."""
    changes = {}
    for attr, new in values.items():
        old = getattr(obj, attr) if obj is not None else None
        if old != new and not (old in (None, "") and new in (None, "")):
            changes[attr] = [_display(old), _display(new)]
    return changes


def _set(obj, values: dict) -> None:
    for attr, value in values.items():
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


# -- reading rows of the department's templates ---------------------------------------------

def _map_columns(plan: Plan, table: Table, columns: tuple[Column, ...]) -> list[Column | None]:
    hmap = header_map(columns)
    mapped: list[Column | None] = []
    unknown, seen = [], set()
    for i, header in enumerate(table.headers):
        if not header:
            if any(i < len(vals) and vals[i] for _, vals in table.rows):
                unknown.append(_("(empty header in column %(n)s)", n=i + 1))
            mapped.append(None)
            continue
        col = hmap.get(normalise_header(header))
        if col is None:
            unknown.append(header)
        elif col.key in seen:
            raise FileProblem(_("The column %(name)s appears twice.", name=header))
        else:
            seen.add(col.key)
            plan.header_for[col.key] = header
        mapped.append(col)
    if unknown:
        raise FileProblem(_("Unknown columns: %(names)s. Use the template's headers (English or "
                            "Chinese).", names=", ".join(unknown)))
    missing = [f"{c.zh} ({c.key})" for c in columns if c.required and c.key not in seen]
    if missing:
        raise FileProblem(_("Missing required columns: %(names)s.", names=", ".join(missing)))
    return mapped


def _parse_rows(plan: Plan, table: Table, columns: tuple[Column, ...]):
    """Yield (RowResult, values by column key) for each row; cell errors land on the result."""
    mapped = _map_columns(plan, table, columns)
    countries = country_words()
    cell_errors = defaultdict(list)
    for line, header, _reason in table.cell_errors:
        cell_errors[line].append(header)
    for line, vals in table.rows:
        result = RowResult(row=line)
        values: dict[str, object] = {}
        for header in cell_errors.get(line, ()):
            result.errors.append(CellError(line, header, None, _(
                "A formula without a saved value; open the file in a spreadsheet, save it, "
                "and upload it again (formulas are never calculated here).")))
        for i, col in enumerate(mapped):
            if col is None:
                continue
            raw = vals[i] if i < len(vals) else None
            try:
                values[col.key] = parse_cell(col, raw, countries)
            except BadValue as exc:
                result.errors.append(CellError(line, table.headers[i], raw, str(exc)))
        yield result, values


def _error(result: RowResult, column: str, value, reason: str) -> None:
    result.errors.append(CellError(result.row, column, None if value is None else str(value),
                                   reason))


def _finish(result: RowResult, obj, values: dict, create, update=None) -> None:
    """Decide new/changed/unchanged and attach the write."""
    if result.errors:
        result.action = "invalid"
        return
    if obj is None:
        result.action = "new"
        result.changes = _diff(None, values)
        result.write = create
        return
    result.changes = _diff(obj, values)
    if result.changes:
        result.action = "changed"
        result.write = update or (lambda session: _set(obj, values))
    else:
        result.action = "unchanged"


def _duplicate(result: RowResult, seen: dict, key, column: str, value) -> bool:
    if key in seen:
        _error(result, column, value, _("Duplicate of row %(row)s in this file.", row=seen[key]))
        return True
    seen[key] = result.row
    return False


# -- schools (department template) ----------------------------------------------------------

class _Districts:
    """Districts by (county, name), creating missing ones once, when the import is applied."""

    def __init__(self, session: Session):
        self.by_key = {(ministry.normalise_county(d.county), d.name_zh): d
                       for d in session.scalars(select(District))}
        self.by_id = {d.id: d for d in self.by_key.values()}
        self.pending: dict[tuple[str, str], District] = {}

    def names(self, county: str) -> set[str]:
        c = ministry.normalise_county(county)
        return {name for (cty, name) in self.by_key if cty == c}

    def get(self, county: str, name: str) -> District | None:
        return self.by_key.get((ministry.normalise_county(county), name))

    def get_or_plan(self, county: str, name: str, postal: str | None) -> District:
        key = (ministry.normalise_county(county), name)
        found = self.by_key.get(key) or self.pending.get(key)
        if found is None:
            found = District(county=key[0], name_zh=name, postal_code=(postal or "")[:3] or None)
            self.pending[key] = found
        return found


def _school_values(values: dict, district) -> dict:
    out = {}
    for key, attr in (("code", "code"), ("name_zh", "name_zh"), ("name_en", "name_en"),
                      ("primary", "serves_primary"), ("junior", "serves_junior"),
                      ("senior", "serves_senior"), ("public", "is_public"),
                      ("address", "address"), ("phone", "phone"), ("website", "website"),
                      ("principal_name", "principal_name"),
                      ("principal_email", "principal_email"), ("enrolment", "enrolment"),
                      ("closed_on", "closed_on")):
        if key in values:
            out[attr] = values[key]
    if district is not None:
        out["district"] = district
    return out


def _school_writers(obj: School | None, values: dict):
    """Write via district_id for stored districts (no lazy load of district.schools)."""

    def assign(school: School) -> None:
        for attr, value in values.items():
            if attr == "district":
                if value.id is None:
                    if school.district is not value:
                        school.district = value
                elif school.district_id != value.id:
                    school.district_id = value.id
            elif getattr(school, attr) != value:
                setattr(school, attr, value)

    def create(session: Session) -> None:
        school = School(is_public=True, serves_primary=False, serves_junior=False,
                        serves_senior=False)
        assign(school)
        session.add(school)

    def update(session: Session) -> None:
        assign(obj)

    return create, update


def _plan_school_row(result: RowResult, obj: School | None, values: dict,
                     districts: _Districts) -> None:
    """Shared by both school formats: compare, check levels, attach the writes."""
    create, update = _school_writers(obj, values)
    flags = [values.get(a, getattr(obj, a) if obj is not None else False) or False
             for a in ("serves_primary", "serves_junior", "serves_senior")]
    if not result.errors and not any(flags):
        _error(result, "primary / junior / senior", None,
               _("A school serves at least one level (primary, junior or senior)."))
    if result.errors:
        result.action = "invalid"
        return
    if obj is None:
        result.action = "new"
        result.changes = _diff(None, values)
        result.write = create
        return
    compare = dict(values)
    district = compare.pop("district", None)
    result.changes = _diff(obj, compare)
    if district is not None and district.id != obj.district_id:
        old = districts.by_id.get(obj.district_id)
        result.changes["district"] = [_display(old), _display(district)]
    if result.changes:
        result.action = "changed"
        result.write = update
    else:
        result.action = "unchanged"


def plan_schools(session: Session, plan: Plan, table: Table, jurisdiction: str) -> None:
    existing = {s.code: s for s in session.scalars(select(School))}
    districts = _Districts(session)
    seen: dict = {}
    for result, values in _parse_rows(plan, table, COLUMNS["schools"]):
        code = values.get("code")
        result.label = f"{code or ''} {values.get('name_zh') or ''}".strip()
        if code:
            _duplicate(result, seen, code, "code", code)
        county = values.get("county") or (
            jurisdiction if jurisdiction != ministry.WHOLE_COUNTRY else None)
        if (county and not ministry.in_jurisdiction(county, jurisdiction)
                and not result.errors):
            result.action = "skipped"
            result.reason = _("Outside %(j)s.", j=county_name(jurisdiction))
            plan.rows.append(result)
            continue
        district = None
        if not county:
            _error(result, "county", None, _("Required: the county or city of the school."))
        elif values.get("district"):
            district = districts.get(county, values["district"])
            if district is None:
                _error(result, "district", values["district"],
                       _("Unknown district in %(county)s.", county=county))
        obj = existing.get(code) if code else None
        _plan_school_row(result, obj, _school_values(values, district), districts)
        plan.rows.append(result)


# -- schools (the Ministry's directory) -----------------------------------------------------

def plan_ministry(session: Session, plan: Plan, table: Table, jurisdiction: str,
                  level: Level | None) -> None:
    fields = ministry.column_fields(table.headers)
    unknown = [h for h, f in zip(table.headers, fields, strict=True) if h and f is None]
    if unknown:
        raise FileProblem(_("Unknown columns for a Ministry of Education directory: "
                            "%(names)s.", names=", ".join(unknown)))
    named = [f for f in fields if f]
    twice = sorted({h for h, f in zip(table.headers, fields, strict=True)
                    if f and named.count(f) > 1})
    if twice:
        raise FileProblem(_("The column %(name)s appears twice.", name=", ".join(twice)))
    idx = {f: i for i, f in enumerate(fields) if f}
    missing = [h for h, f in (("代碼", "code"), ("學校名稱", "name"), ("縣市名稱", "county"),
                              ("地址", "address")) if f not in idx]
    if missing:
        raise FileProblem(_("Missing required columns: %(names)s.", names=", ".join(missing)))

    def cell(vals, name):
        i = idx.get(name)
        return vals[i] if i is not None and i < len(vals) else None

    if level is None:
        level = ministry.detect_level(table.headers,
                                      [cell(v, "name") or "" for _, v in table.rows])
        if level is None:
            raise FileProblem(_("Could not tell which level this directory lists; choose the "
                                "level (primary, junior or senior) and upload it again."))
    plan.level = level
    level_attr = {"primary": "serves_primary", "junior": "serves_junior",
                  "senior": "serves_senior"}[level.value]

    existing = {s.code: s for s in session.scalars(select(School))}
    districts = _Districts(session)
    formula_rows = defaultdict(list)
    for line, header, _reason in table.cell_errors:
        formula_rows[line].append(header)
    seen: dict = {}
    in_file: set[str] = set()
    for line, vals in table.rows:
        result = RowResult(row=line)
        for header in formula_rows.get(line, ()):
            _error(result, header, None, _("A formula without a saved value."))
        raw_code, name = cell(vals, "code"), cell(vals, "name")
        county = ministry.normalise_county(cell(vals, "county"))
        result.label = f"{raw_code or ''} {name or ''}".strip()
        if county and not ministry.in_jurisdiction(county, jurisdiction):
            result.action = "skipped"
            result.reason = _("Outside %(j)s.", j=county_name(jurisdiction))
            plan.rows.append(result)
            continue
        code = None
        try:
            code = parse_code(raw_code or "")
        except BadValue as exc:
            _error(result, "代碼", raw_code, str(exc))
        if code:
            in_file.add(code)
            _duplicate(result, seen, code, "代碼", raw_code)
        if not name:
            _error(result, "學校名稱", name, _("Required."))
        elif len(name) > 120:
            _error(result, "學校名稱", name, _("Too long (at most %(n)s characters).", n=120))
        if not county:
            _error(result, "縣市名稱", cell(vals, "county"), _("Required."))
        raw_address = cell(vals, "address")
        postal, address, district_name = ministry.split_address(
            raw_address, county, districts.names(county))
        district = None
        if not district_name:
            _error(result, "地址", raw_address,
                   _("The district (區/鄉/鎮/市) could not be found in the address."))
        elif county:
            district = districts.get_or_plan(county, district_name, postal)
        values = {"code": code, "name_zh": name, "address": (address or None) and address[:300],
                  level_attr: True}
        if "sector" in idx:
            values["is_public"] = "私" not in (cell(vals, "sector") or "")
        for key, length in (("phone", 40), ("website", 300)):
            if key in idx:
                values[key] = (cell(vals, key) or None) and cell(vals, key)[:length]
        if district is not None:
            values["district"] = district
        obj = existing.get(code) if code else None
        if obj is None:
            values.update({a: values.get(a, False) for a in
                           ("serves_primary", "serves_junior", "serves_senior")})
        _plan_school_row(result, obj, values, districts)
        plan.rows.append(result)

    for code, school in sorted(existing.items()):
        d = districts.by_id.get(school.district_id)
        if (code not in in_file and getattr(school, level_attr) and school.closed_on is None
                and d is not None and ministry.in_jurisdiction(d.county, jurisdiction)):
            plan.missing.append((code, school.name_zh))


# -- partner schools ------------------------------------------------------------------------

def _partner_key(name: str, country: str, city: str | None) -> tuple[str, str, str]:
    return (_norm(name), country.upper(), _norm(city))


def plan_partners(session: Session, plan: Plan, table: Table) -> None:
    existing = {_partner_key(p.name, p.country, p.city): p
                for p in session.scalars(select(PartnerSchool))}
    cities: dict[str, PartnerCity] = {}
    for c in session.scalars(select(PartnerCity)):
        cities.setdefault(_norm(c.name), c)
        if c.name_zh:
            cities.setdefault(_norm(c.name_zh), c)
    seen: dict = {}
    for result, values in _parse_rows(plan, table, COLUMNS["partners"]):
        name, country = values.get("name"), values.get("country")
        result.label = name or ""
        key = None
        if name and country:
            key = _partner_key(name, country, values.get("city"))
            _duplicate(result, seen, key, "name", name)
        out = {}
        for k, attr in (("name", "name"), ("name_local", "name_local"), ("country", "country"),
                        ("region", "region"), ("primary", "serves_primary"),
                        ("junior", "serves_junior"), ("senior", "serves_senior"),
                        ("website", "website"), ("contact_name", "contact_name"),
                        ("contact_email", "contact_email")):
            if k in values:
                out[attr] = values[k]
        if "city" in values:
            out["city"] = values["city"] or ""
        if "partner_city" in values:
            pc = values["partner_city"]
            city = cities.get(_norm(pc)) if pc else None
            if pc and city is None:
                _error(result, "partner_city", pc, _("Unknown partner city."))
            out["partner_city_id"] = city.id if city else None
        obj = existing.get(key) if key else None

        def create(session, out=out):
            partner = PartnerSchool(city="", serves_primary=False, serves_junior=False,
                                    serves_senior=False)
            _set(partner, out)
            session.add(partner)

        _finish(result, obj, out, create)
        plan.rows.append(result)


# -- pairings and activities ----------------------------------------------------------------

class _PairingIndex:
    """Schools by code, partner schools by name, pairings by (school, partner): loaded once."""

    def __init__(self, session: Session, with_events: bool = False):
        # Whole School rows, so that the pairings service's session.get() finds them loaded.
        self.schools = {s.code: s.id for s in session.scalars(select(School))}
        self.partners: dict[str, list[PartnerSchool]] = defaultdict(list)
        for p in session.scalars(select(PartnerSchool)):
            self.partners[_norm(p.name)].append(p)
        self.pairings: dict[tuple[int, int], list[Pairing]] = defaultdict(list)
        stmt = select(Pairing).order_by(Pairing.id)
        if with_events:
            stmt = stmt.options(selectinload(Pairing.events))
        for p in session.scalars(stmt):
            self.pairings[(p.school_id, p.partner_school_id)].append(p)

    def resolve(self, result: RowResult, values: dict) -> tuple[int | None, PartnerSchool | None]:
        code = values.get("school_code")
        school_id = self.schools.get(code) if code else None
        if code and school_id is None:
            _error(result, "school_code", code, _("No school with this code."))
        name = values.get("partner_name")
        partner = None
        if name:
            found = self.partners.get(_norm(name), [])
            if values.get("partner_country"):
                found = [p for p in found if p.country == values["partner_country"]]
            if values.get("partner_city"):
                found = [p for p in found if _norm(p.city) == _norm(values["partner_city"])]
            if not found:
                _error(result, "partner_name", name,
                       _("No partner school with this name (and country and city); import "
                         "the partner schools first."))
            elif len(found) > 1:
                _error(result, "partner_name", name,
                       _("Several partner schools have this name; add the country and city."))
            else:
                partner = found[0]
        return school_id, partner

    def pairing_for(self, school_id: int, partner_id: int, signed_on: date | None = None,
                    ended_on: date | None = None) -> Pairing | None:
        """The stored pairing a row means: the one signed the same day, else the open one,
        else an ended one that ended the same day; None for a pairing not stored yet (a school
        and a partner school may have ended pairings before the current one)."""
        found = self.pairings.get((school_id, partner_id), [])
        if signed_on:
            same = [p for p in found if p.signed_on == signed_on]
            if same:
                return same[-1]
        for p in found:
            if p.status in OPEN_STATUSES:
                return p
        if ended_on:
            same = [p for p in found if p.ended_on == ended_on]
            if same:
                return same[-1]
        return None

    def pairing_on(self, school_id: int, partner_id: int, day: date | None) -> Pairing | None:
        """The pairing an activity on ``day`` belongs to: the one whose signed period holds the
        day, else the open one, else the latest."""
        found = self.pairings.get((school_id, partner_id), [])
        if day and len(found) > 1:
            for p in found:
                first = p.signed_on or p.start_on
                if (first is None or first <= day) and (p.ended_on is None or day <= p.ended_on):
                    return p
        for p in found:
            if p.status in OPEN_STATUSES:
                return p
        return found[-1] if found else None


_PAIRING_FIELDS = ("status", "signed_on", "start_on", "end_on", "ended_on", "focus_areas",
                   "coordinator", "notes")


def _save_pairing(session: Session, row: int, pairing: Pairing | None, data: dict) -> None:
    """Create or update through the pairings service, which keeps the dated status history
    (PairingEvent) by the same rules as the web forms."""
    from ..pairings import service as pairing_service

    if data["status"] in (PairingStatus.PROPOSED, PairingStatus.NEGOTIATING) \
            and data.get("start_on"):
        data = {**data, "effective_on": data["start_on"]}
    try:
        if pairing is None:
            pairing_service.create_pairing(session, data)
        else:
            pairing_service.update_pairing(session, pairing, data)
    except pairing_service.PairingRuleError as exc:
        raise ImportRefused(_("Row %(row)s: %(error)s Nothing was imported.", row=row,
                              error=str(exc))) from exc


def plan_pairings(session: Session, plan: Plan, table: Table) -> None:
    index = _PairingIndex(session, with_events=True)
    seen: dict = {}
    for result, values in _parse_rows(plan, table, COLUMNS["pairings"]):
        result.label = f"{values.get('school_code') or ''} – {values.get('partner_name') or ''}"
        school_id, partner = index.resolve(result, values)
        status = values.get("status")
        if school_id and partner:
            # One open pairing per school and partner school; ended ones are told apart by date.
            key = ((school_id, partner.id) if status != PairingStatus.ENDED else
                   (school_id, partner.id, values.get("signed_on"), values.get("ended_on")))
            _duplicate(result, seen, key, "partner_name", values.get("partner_name"))
        out = {k: values[k] for k in _PAIRING_FIELDS if k in values}
        obj = (index.pairing_for(school_id, partner.id, values.get("signed_on"),
                                 values.get("ended_on")) if school_id and partner else None)
        merged = {k: out.get(k, getattr(obj, k, None)) for k in
                  ("signed_on", "start_on", "end_on", "ended_on")}
        if status in (PairingStatus.ACTIVE, PairingStatus.SUSPENDED) and not merged["signed_on"]:
            _error(result, "signed_on", None,
                   _("An active or suspended pairing needs its signing date."))
        if status == PairingStatus.ENDED and not merged["ended_on"]:
            _error(result, "ended_on", None, _("An ended pairing needs the date it ended."))
        if merged["start_on"] and merged["end_on"] and merged["end_on"] < merged["start_on"]:
            _error(result, "end_on", merged["end_on"], _("Ends before it starts."))
        if merged["signed_on"] and merged["ended_on"] and merged["ended_on"] < merged["signed_on"]:
            _error(result, "ended_on", merged["ended_on"], _("Ended before it was signed."))
        if status is not None and status != PairingStatus.ENDED and merged["ended_on"]:
            _error(result, "ended_on", merged["ended_on"],
                   _("Only an ended pairing has an end date; clear it or set the status to "
                     "ended."))
        full = {k: out.get(k, getattr(obj, k, None)) for k in _PAIRING_FIELDS}
        full.update(school_id=school_id, partner_school_id=partner.id if partner else None)

        def create(session, row=result.row, full=full):
            _save_pairing(session, row, None, full)

        def update(session, row=result.row, obj=obj, full=full):
            _save_pairing(session, row, obj, full)

        _finish(result, obj, out, create, update)
        plan.rows.append(result)


def plan_activities(session: Session, plan: Plan, table: Table) -> None:
    index = _PairingIndex(session)
    existing = {(a.pairing_id, a.start_on, _norm(a.title)): a
                for a in session.scalars(select(Activity))}
    seen: dict = {}
    for result, values in _parse_rows(plan, table, COLUMNS["activities"]):
        result.label = f"{values.get('school_code') or ''} – {values.get('title') or ''}"
        school_id, partner = index.resolve(result, values)
        pairing = (index.pairing_on(school_id, partner.id, values.get("start_on"))
                   if school_id and partner else None)
        if school_id and partner and pairing is None:
            _error(result, "partner_name", values.get("partner_name"),
                   _("This school has no pairing with this partner school; import the pairing "
                     "first."))
        key = None
        if pairing is not None and values.get("start_on") and values.get("title"):
            key = (pairing.id, values["start_on"], _norm(values["title"]))
            _duplicate(result, seen, key, "title", values["title"])
        start, end = values.get("start_on"), values.get("end_on")
        if start and end and end < start:
            _error(result, "end_on", values["end_on"], _("Ends before it starts."))
        out = {k: values[k] for k in ("title", "type", "mode", "start_on", "end_on",
                                      "description", "evidence_url") if k in values}
        for k in ("local_students", "local_teachers", "partner_students", "partner_teachers"):
            if k in values:
                out[k] = values[k] or 0
        obj = existing.get(key) if key else None

        def create(session, out=out, pairing=pairing):
            activity = Activity(pairing_id=pairing.id, local_students=0, local_teachers=0,
                                partner_students=0, partner_teachers=0)
            _set(activity, out)
            session.add(activity)

        _finish(result, obj, out, create)
        plan.rows.append(result)


# -- entry points ---------------------------------------------------------------------------

def build_plan(session: Session, kind: str, table: Table, filename: str, *,
               jurisdiction: str, level: Level | str | None = None) -> Plan:
    """Read ``table`` against the database. Raises FileProblem for a file-level problem."""
    if kind not in COLUMNS:
        raise FileProblem(_("Unknown kind of import: %(kind)s.", kind=kind))
    if not table.rows:
        raise FileProblem(_("The file has a header row but no data rows."))
    plan = Plan(kind=kind, filename=filename, encoding=table.encoding,
                columns=list(table.headers))
    level = Level(level) if level else None
    with session.no_autoflush:
        if kind == "schools" and ministry.is_ministry(table.headers):
            plan.format = "ministry"
            plan_ministry(session, plan, table, jurisdiction, level)
        elif kind == "schools":
            plan_schools(session, plan, table, jurisdiction)
        elif kind == "partners":
            plan_partners(session, plan, table)
        elif kind == "pairings":
            plan_pairings(session, plan, table)
        else:
            plan_activities(session, plan, table)
    if plan.format == "template":
        known = {c.key: c for c in COLUMNS[kind]}
        for error in plan.errors:
            if error.column in plan.header_for:
                error.column = plan.header_for[error.column]
            elif error.column in known:
                error.column = f"{known[error.column].zh} ({error.column})"
    return plan


def apply_plan(session: Session, plan: Plan, *, only_valid: bool = False,
               progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write the planned changes and one audit entry; the caller commits (or rolls back).

    Without ``only_valid`` any invalid row refuses the whole import.
    """
    counts = plan.counts
    if counts["invalid"] and not only_valid:
        raise ImportRefused(ngettext("%(num)s row is invalid; nothing was imported.",
                                     "%(num)s rows are invalid; nothing was imported.",
                                     counts["invalid"]))
    for i, result in enumerate(plan.rows, start=1):
        if result.write is not None and result.action in ("new", "changed"):
            result.write(session)
        if progress is not None and i % 100 == 0:
            progress(100)
    session.flush()
    summary = {"kind": plan.kind, "format": plan.format, **counts}
    if plan.level is not None:
        summary["level"] = plan.level.value
    if only_valid:
        summary["only_valid"] = True
    tracking.record(session, "import", label=plan.filename, changes=summary)
    return counts


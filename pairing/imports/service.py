"""Plan and apply an import.

``build_plan`` reads a :class:`~.readers.Table` against the database (a few bulk queries, never
one per row) and decides for each row: new, changed (with the changes), unchanged, skipped or
invalid. Nothing is written while planning, so the preview is safe. ``apply_plan`` then runs the
planned writes in the caller's transaction and records one audit entry for the whole import;
the caller commits, or rolls back on any error so that nothing changes.

Activities come in the largest files (hundreds of thousands of rows), so their plan keeps only
a tuple of values per row, and ``apply_plan`` inserts the new ones with Core in chunks, with
their per-record audit rows written in bulk too, instead of one ORM object (and one audit
insert) per row.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from ..audit import tracking
from ..common.enums import Level, PairingStatus
from ..common.i18n import county_name
from ..common.models import utcnow
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
#: Rows per Core insert (and per lookup of stored rows by id) in the bulk paths.
CHUNK = 2000
#: The preview lists this many new rows (activities keep a label for no more than these).
PREVIEW_NEW_ROWS = 200
#: Cell types whose parsed value is remembered per distinct text while a file is planned.
_REPEATED_TYPES = frozenset({"code", "bool", "date", "int", "enum", "country"})
_NO_CHANGES: Mapping[str, list] = MappingProxyType({})


class ImportRefused(Exception):
    """Raised by apply_plan when invalid rows block the import."""


@dataclass(slots=True)
class RowResult:
    """One row's outcome. Slots and shared empty defaults: a plan may hold 200,000 of them."""

    row: int
    label: str = ""
    action: str = "unchanged"
    changes: Mapping[str, list] = field(default_factory=lambda: _NO_CHANGES)
    errors: Sequence[CellError] = ()
    reason: str = ""
    write: Callable[[Session], None] | None = None
    #: The values ``Plan.bulk`` writes for this row (instead of ``write``), if any.
    data: tuple | None = None

    def add_error(self, error: CellError) -> None:
        if not self.errors:
            self.errors = []
        self.errors.append(error)


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
    #: Writes the rows that carry ``data``, in bulk, after the per-row writes:
    #: ``bulk(session, plan, progress)``.
    bulk: Callable[[Session, Plan, Callable[[int], None] | None], None] | None = None

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
    # Codes, dates, numbers and fixed values repeat on many rows: parse each text once (and
    # share the parsed value). Errors are not remembered, so each row reports its own.
    parsed: dict[tuple[str, str], object] = {}
    for line, vals in table.rows:
        result = RowResult(row=line)
        values: dict[str, object] = {}
        for header in cell_errors.get(line, ()):
            result.add_error(CellError(line, header, None, _(
                "A formula without a saved value; open the file in a spreadsheet, save it, "
                "and upload it again (formulas are never calculated here).")))
        for i, col in enumerate(mapped):
            if col is None:
                continue
            raw = vals[i] if i < len(vals) else None
            if raw is not None and col.type in _REPEATED_TYPES:
                value = parsed.get((col.key, raw), parsed)
                if value is not parsed:
                    values[col.key] = value
                    continue
            try:
                values[col.key] = value = parse_cell(col, raw, countries)
            except BadValue as exc:
                result.add_error(CellError(line, table.headers[i], raw, str(exc)))
            else:
                if raw is not None and col.type in _REPEATED_TYPES:
                    parsed[(col.key, raw)] = value
        yield result, values


def _error(result: RowResult, column: str, value, reason: str) -> None:
    result.add_error(CellError(result.row, column, None if value is None else str(value),
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


# -- partner cities -------------------------------------------------------------------------

_CITY_FIELDS = ("name", "name_zh", "country", "region", "signed_on", "twinned_on", "notes")


def _city_key(name: str, country: str, region: str | None) -> tuple[str, str, str]:
    return (_norm(name), country.upper(), _norm(region))


def plan_cities(session: Session, plan: Plan, table: Table) -> None:
    """Partner cities match on name, country and region (the table's unique constraint)."""
    existing = {_city_key(c.name, c.country, c.region): c
                for c in session.scalars(select(PartnerCity))}
    seen: dict = {}
    for result, values in _parse_rows(plan, table, COLUMNS["cities"]):
        name, country = values.get("name"), values.get("country")
        result.label = name or ""
        key = None
        if name and country:
            key = _city_key(name, country, values.get("region"))
            _duplicate(result, seen, key, "name", name)
        out = {k: values[k] for k in _CITY_FIELDS if k in values}
        obj = existing.get(key) if key else None

        def create(session, out=out):
            city = PartnerCity()
            _set(city, out)
            session.add(city)

        _finish(result, obj, out, create)
        plan.rows.append(result)


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
    """Schools by code, partner schools by name, pairings by (school, partner): loaded once.

    ``columns_only``: partner schools and pairings as plain rows of the columns the lookups
    read (activities only need the pairing's id), not ORM objects.
    """

    def __init__(self, session: Session, with_events: bool = False, columns_only: bool = False):
        # Whole School rows (unless columns_only), so that the pairings service's
        # session.get() finds them loaded.
        self.schools = (dict(session.execute(select(School.code, School.id)).all())
                        if columns_only else
                        {s.code: s.id for s in session.scalars(select(School))})
        self.partners: dict[str, list[PartnerSchool]] = defaultdict(list)
        partners = (session.execute(select(PartnerSchool.id, PartnerSchool.name,
                                           PartnerSchool.country, PartnerSchool.city))
                    if columns_only else session.scalars(select(PartnerSchool)))
        for p in partners:
            self.partners[_norm(p.name)].append(p)
        self.pairings: dict[tuple[int, int], list[Pairing]] = defaultdict(list)
        if columns_only:
            stmt = select(Pairing.id, Pairing.school_id, Pairing.partner_school_id,
                          Pairing.status, Pairing.signed_on, Pairing.start_on,
                          Pairing.ended_on).order_by(Pairing.id)
            pairings = session.execute(stmt)
        else:
            stmt = select(Pairing).order_by(Pairing.id)
            if with_events:
                stmt = stmt.options(selectinload(Pairing.events))
            pairings = session.scalars(stmt)
        for p in pairings:
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


_ACTIVITY_FIELDS = ("title", "type", "mode", "start_on", "end_on", "local_students",
                    "local_teachers", "partner_students", "partner_teachers", "description",
                    "evidence_url")
_ACTIVITY_COUNTS = ("local_students", "local_teachers", "partner_students", "partner_teachers")


def plan_activities(session: Session, plan: Plan, table: Table) -> None:
    """Activities match on (pairing, start date, title). A valid row keeps only the tuple
    ``(pairing id or stored activity id, value of each field the file has)`` for the bulk
    writer, and a label only where the preview shows one (changed rows, the first new ones);
    the stored activities are read as plain rows, chunk by chunk, for the pairings the file
    names, and only those the file matches are compared."""
    index = _PairingIndex(session, columns_only=True)
    in_file = _file_columns(table, COLUMNS["activities"])
    fields = tuple(f for f in _ACTIVITY_FIELDS if f in in_file)
    refs: dict[tuple, tuple] = {}  # (code, partner name, country, city) -> resolved, errors
    by_key: dict[tuple, RowResult] = {}
    for result, values in _parse_rows(plan, table, COLUMNS["activities"]):
        ref = (values.get("school_code"), values.get("partner_name"),
               values.get("partner_country"), values.get("partner_city"))
        resolved = refs.get(ref)
        if resolved is None:  # the same school and partner school come on many rows
            probe = RowResult(row=result.row)
            school_id, partner = index.resolve(probe, values)
            resolved = refs[ref] = (school_id, partner, tuple(probe.errors))
        school_id, partner, ref_errors = resolved
        for error in ref_errors:
            _error(result, error.column, error.value, error.reason)
        pairing = (index.pairing_on(school_id, partner.id, values.get("start_on"))
                   if school_id and partner else None)
        if school_id and partner and pairing is None:
            _error(result, "partner_name", values.get("partner_name"),
                   _("This school has no pairing with this partner school; import the pairing "
                     "first."))
        key = None
        if pairing is not None and values.get("start_on") and values.get("title"):
            key = (pairing.id, values["start_on"], _norm(values["title"]))
            if key in by_key:
                _error(result, "title", values["title"],
                       _("Duplicate of row %(row)s in this file.", row=by_key[key].row))
            else:
                by_key[key] = result
        start, end = values.get("start_on"), values.get("end_on")
        if start and end and end < start:
            _error(result, "end_on", values["end_on"], _("Ends before it starts."))
        if result.errors:
            result.action = "invalid"
            result.label = _activity_label(values.get("school_code"), values.get("title"))
        else:
            result.action = "new"
            result.data = (pairing.id, *(
                (values[f] or 0) if f in _ACTIVITY_COUNTS else values[f] for f in fields))
        plan.rows.append(result)

    codes = {id_: code for code, id_ in index.schools.items()}
    school_of = {p.id: p.school_id for found in index.pairings.values() for p in found}
    title_at = fields.index("title") + 1  # in a row's data

    def label(pairing_id: int, text: str) -> str:
        return _activity_label(codes.get(school_of.get(pairing_id)), text)

    # Stored activities of the file's pairings: compare only those the file names.
    columns = [getattr(Activity, f) for f in fields]
    pairing_ids = sorted({key[0] for key in by_key})
    for chunk in _chunks(pairing_ids, 900):
        stmt = (select(Activity.id, Activity.pairing_id, Activity.start_on, Activity.title,
                       *columns)
                .where(Activity.pairing_id.in_(chunk)).order_by(Activity.id)
                .execution_options(yield_per=CHUNK))
        for stored in session.execute(stmt):
            result = by_key.get((stored.pairing_id, stored.start_on, _norm(stored.title)))
            if result is None or result.action != "new":
                continue  # not in the file, invalid, or already matched
            new_values = dict(zip(fields, result.data[1:], strict=True))
            changes = _diff(stored, new_values)
            if changes:
                result.action = "changed"
                result.changes = changes
                result.label = label(stored.pairing_id, result.data[title_at])
                result.data = (stored.id, *result.data[1:])
            else:
                result.action = "unchanged"
                result.data = None
    new = 0
    for result in plan.rows:
        if result.action == "new":
            new += 1
            if new > PREVIEW_NEW_ROWS:
                break
            result.label = label(result.data[0], result.data[title_at])
    plan.bulk = _activity_writer(fields)


def _activity_label(code: str | None, title: str | None) -> str:
    return f"{code or ''} – {title or ''}"


def _file_columns(table: Table, columns: tuple[Column, ...]) -> set[str]:
    """Keys of the template columns the file has (its headers mapped as _map_columns does)."""
    hmap = header_map(columns)
    return {hmap[normalise_header(h)].key for h in table.headers
            if h and normalise_header(h) in hmap}


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _insert_returning_ids(session: Session, table, rows: list[dict]) -> None:
    """Insert ``rows`` and set each one's ``id``.

    PostgreSQL: the ids are taken from the table's sequence first and the rows inserted with
    them (a plain executemany; an INSERT ... RETURNING of a thousand rows is a statement that
    the driver re-parses in Python for every batch). Elsewhere: INSERT ... RETURNING in the
    rows' order.
    """
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.scalar(select(func.pg_get_serial_sequence(table.name, "id")))
        if sequence is not None:
            ids = session.scalars(select(func.nextval(sequence))
                                  .select_from(func.generate_series(1, len(rows)))).all()
            for row, id_ in zip(rows, ids, strict=True):
                row["id"] = id_
            session.execute(insert(table), rows)
            return
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    for row, id_ in zip(rows, session.scalars(stmt, rows).all(), strict=True):
        row["id"] = id_


def _activity_writer(fields: tuple[str, ...]):
    """The bulk writer of an activities plan: changed rows through the ORM (so each one's
    history records the change), loaded a chunk at a time; new rows with Core inserts, and
    one 'create' audit row each, also inserted in bulk."""

    def write(session: Session, plan: Plan, progress: Callable[[int], None] | None) -> None:
        changed = [r for r in plan.rows if r.action == "changed" and r.data is not None]
        for chunk in _chunks(changed, CHUNK):
            stored = {a.id: a for a in session.scalars(
                select(Activity).where(Activity.id.in_([r.data[0] for r in chunk])))}
            for result in chunk:
                _set(stored[result.data[0]], dict(zip(fields, result.data[1:], strict=True)))
            session.flush()
            if progress is not None:
                progress(len(chunk))
        new = [r for r in plan.rows if r.action == "new" and r.data is not None]
        table = Activity.__table__
        now = utcnow()
        defaults = {"end_on": None, "description": None, "evidence_url": None,
                    **dict.fromkeys(_ACTIVITY_COUNTS, 0)}
        for chunk in _chunks(new, CHUNK):
            rows = []
            for result in chunk:
                row = {**defaults, "pairing_id": result.data[0],
                       "created_at": now, "updated_at": now, "version": 1}
                row.update(zip(fields, result.data[1:], strict=True))
                rows.append(row)
            _insert_returning_ids(session, table, rows)
            tracking.record_created(session, "activity",
                                    [(row["id"], row["title"], row) for row in rows])
            if progress is not None:
                progress(len(chunk))

    return write


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
        elif kind == "cities":
            plan_cities(session, plan, table)
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
    done = 0
    for result in plan.rows:
        if result.data is not None:
            continue  # written by plan.bulk, which reports its own progress
        if result.write is not None and result.action in ("new", "changed"):
            result.write(session)
        done += 1
        if progress is not None and done % 100 == 0:
            progress(100)
    session.flush()
    if plan.bulk is not None:
        plan.bulk(session, plan, progress)
    summary = {"kind": plan.kind, "format": plan.format, **counts}
    if plan.level is not None:
        summary["level"] = plan.level.value
    if only_valid:
        summary["only_valid"] = True
    tracking.record(session, "import", label=plan.filename, changes=summary)
    return counts


"""Lists out as CSV or XLSX, the full workbook, and the XLSX import templates.

Columns and headers are the import formats' (specs.COLUMNS), so every export re-imports as it
is. Text that a spreadsheet would take for a formula is neutralised with a leading apostrophe,
which the reader removes again on import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date

from flask_babel import get_locale
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..pairings.models import Activity, Pairing
from ..partners.models import PartnerCity, PartnerSchool
from ..schools.models import District, School
from .specs import COLUMNS, KINDS, SHEET_NAMES, Column

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix text that starts like a formula with an apostrophe (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def header_language() -> str:
    loc = get_locale()
    return "en" if loc is not None and loc.language == "en" else "zh"


def headers(kind: str, language: str = "zh") -> list[str]:
    return [c.key if language == "en" else c.zh for c in COLUMNS[kind]]


# -- which records ----------------------------------------------------------------------------

def _list_query(kind: str, params: Mapping[str, str] | None):
    """The list page's own query builder (same filters), or every record when it is missing."""
    if params is not None:
        try:
            if kind == "cities":
                from ..partners.service import city_list_query as builder
            elif kind == "schools":
                from ..schools.service import school_list_query as builder
            elif kind == "partners":
                from ..partners.service import partner_list_query as builder
            elif kind == "pairings":
                from ..pairings.service import pairing_list_query as builder
            else:
                from ..pairings.service import activity_list_query as builder
        except ImportError:
            builder = None
        if builder is not None:
            return builder(params)
    model = {"cities": PartnerCity, "schools": School, "partners": PartnerSchool,
             "pairings": Pairing, "activities": Activity}[kind]
    return select(model).order_by(model.id)


def records(session: Session, kind: str, params: Mapping[str, str] | None = None) -> list:
    return list(session.scalars(_list_query(kind, params)).unique())


# -- rows -------------------------------------------------------------------------------------

def _yes(flag: bool | None) -> str:
    return "yes" if flag else "no"


def _partner_refs(session: Session, pairing_ids: Iterable[int]) -> dict[int, tuple]:
    """pairing id -> (school code, partner name, country, city), in one query."""
    ids = list(set(pairing_ids))
    if not ids:
        return {}
    out = {}
    for chunk_start in range(0, len(ids), 900):
        chunk = ids[chunk_start:chunk_start + 900]
        stmt = (select(Pairing.id, School.code, PartnerSchool.name, PartnerSchool.country,
                       PartnerSchool.city)
                .join(School, School.id == Pairing.school_id)
                .join(PartnerSchool, PartnerSchool.id == Pairing.partner_school_id)
                .where(Pairing.id.in_(chunk)))
        for pid, code, name, country, city in session.execute(stmt):
            out[pid] = (code, name, country, city or "")
    return out


def rows(session: Session, kind: str, objs: list) -> list[list]:
    """The cells of each record in the column order of ``COLUMNS[kind]``."""
    if kind == "cities":
        return [[c.name, c.name_zh, c.country, c.region, c.signed_on, c.twinned_on, c.notes]
                for c in objs]
    if kind == "schools":
        district_by_id = {d.id: d for d in session.scalars(select(District))}
        return [[s.code, s.name_zh, s.name_en, district_by_id[s.district_id].county,
                 district_by_id[s.district_id].name_zh, _yes(s.serves_primary),
                 _yes(s.serves_junior), _yes(s.serves_senior), _yes(s.is_public), s.address,
                 s.phone, s.website, s.principal_name, s.principal_email, s.enrolment,
                 s.closed_on] for s in objs]
    if kind == "partners":
        city_names = dict(session.execute(select(PartnerCity.id, PartnerCity.name)).all())
        return [[p.name, p.name_local, p.country, p.region, p.city or None,
                 _yes(p.serves_primary), _yes(p.serves_junior), _yes(p.serves_senior),
                 p.website, p.contact_name, p.contact_email,
                 city_names.get(p.partner_city_id)] for p in objs]
    refs = _partner_refs(session, (o.id if kind == "pairings" else o.pairing_id for o in objs))
    if kind == "pairings":
        return [[*refs[p.id], p.status.value, p.signed_on, p.start_on, p.end_on, p.ended_on,
                 p.focus_areas, p.coordinator, p.notes] for p in objs]
    return [[*refs[a.pairing_id], a.title, a.type.value, a.mode.value, a.start_on, a.end_on,
             a.local_students, a.local_teachers, a.partner_students, a.partner_teachers,
             a.description, a.evidence_url] for a in objs]


# -- writers ----------------------------------------------------------------------------------

def to_csv(header: list[str], data: list[list]) -> bytes:
    """UTF-8 with a BOM, so that Excel shows Chinese; formula-like text neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in data:
        writer.writerow(["" if v is None else
                         (v.isoformat() if isinstance(v, date) else neutralise(v)) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _fill_sheet(ws, columns: tuple[Column, ...], header: list[str], data: list[list]) -> None:
    ws.append(header)
    for row in data:
        ws.append([neutralise(v) for v in row])
    for i, col in enumerate(columns, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(10, min(40, len(header[i - 1]) * 2 + 4))
        fmt = {"code": "@", "date": "yyyy-mm-dd"}.get(col.type)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
    ws.freeze_panes = "A2"


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_xlsx(kind: str, header: list[str], data: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAMES[kind][0]
    _fill_sheet(ws, COLUMNS[kind], header, data)
    return _save(wb)


def full_workbook(session: Session, language: str = "zh") -> tuple[bytes, dict[str, int]]:
    """Every partner city, school, partner school, pairing and activity: one sheet each, in
    the order they are imported."""
    wb = Workbook()
    wb.remove(wb.active)
    counts = {}
    for kind in KINDS:
        objs = records(session, kind)
        counts[kind] = len(objs)
        ws = wb.create_sheet(SHEET_NAMES[kind][0])
        _fill_sheet(ws, COLUMNS[kind], headers(kind, language), rows(session, kind, objs))
    return _save(wb), counts


def template(kind: str, language: str = "zh") -> bytes:
    """Header row, one example row, and drop-down lists for the fixed values."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAMES[kind][0]
    columns = COLUMNS[kind]
    example = [c.example for c in columns]
    _fill_sheet(ws, columns, headers(kind, language), [example])
    for i, col in enumerate(columns, start=1):
        if col.type == "bool":
            options = "yes,no"
        elif col.type == "enum":
            options = ",".join(m.value for m in col.enum)
        else:
            continue
        letter = get_column_letter(i)
        dv = DataValidation(type="list", formula1=f'"{options}"', allow_blank=not col.required)
        dv.add(f"{letter}2:{letter}5000")
        ws.add_data_validation(dv)
    return _save(wb)

"""Read an uploaded CSV or XLSX file into a plain table of strings.

Everything that can go wrong with the file itself (empty, binary, too big, too wide, huge
cells) raises :class:`FileProblem` with a message for the user; problems in single cells
(an XLSX formula without a saved value) are kept as cell errors so the row is reported.
The table is plain JSON-able data, so the preview step can store it between requests.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l

MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000
MAX_ROWS = 1_000_000  # the web upload is bounded by MAX_CONTENT_LENGTH first
DECODE_CHUNK = 1 << 20
SHARED_MAX_CHARS = 40


class FileProblem(ValueError):
    """The file as a whole cannot be imported; ``str(exc)`` is the user's message."""


@dataclass
class Table:
    headers: list[str]
    #: (row number as the user sees it in the file, cell values as stripped strings or None)
    rows: list[tuple[int, list[str | None]]]
    encoding: str
    #: [row number, header, reason] for cells that could not be read (formulas without value)
    cell_errors: list[list] = field(default_factory=list)
    sheet: str | None = None

    def to_json(self) -> dict:
        return {"headers": self.headers, "rows": [[n, vals] for n, vals in self.rows],
                "encoding": self.encoding, "cell_errors": self.cell_errors,
                "sheet": self.sheet}

    @classmethod
    def from_json(cls, data: dict) -> Table:
        return cls(headers=list(data["headers"]),
                   rows=[(int(n), list(vals)) for n, vals in data["rows"]],
                   encoding=data["encoding"], cell_errors=list(data.get("cell_errors") or []),
                   sheet=data.get("sheet"))


def read_table(data: bytes, sheet_names: tuple[str, ...] = (), max_bytes: int | None = None,
               max_columns: int = MAX_COLUMNS, max_cell: int = MAX_CELL_CHARS) -> Table:
    """Read ``data`` (the file's bytes): XLSX when it is a ZIP, CSV text otherwise.

    ``sheet_names``: in a workbook, the first sheet with one of these names is read (so a full
    export is re-importable one kind at a time); otherwise the first sheet.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise FileProblem(_l("The file is larger than the limit of %(mb)s MB.",
                             mb=round(max_bytes / 1024 / 1024, 1)))
    if not data or not data.strip(b"\xef\xbb\xbf \t\r\n,;"):
        raise FileProblem(_l("The file is empty."))
    if data[:4] == b"PK\x03\x04":
        table = _read_xlsx(data, sheet_names)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileProblem(_l("This is an old Excel .xls file. Save it as .xlsx or CSV and "
                             "upload it again."))
    else:
        table = _read_csv(data)
    _check_shape(table, max_columns, max_cell)
    return table


# -- CSV ------------------------------------------------------------------------------------

def _check_utf8(data: bytes, start: int = 0) -> None:
    """Raise UnicodeDecodeError unless ``data[start:]`` is UTF-8, without holding its text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for offset in range(start, len(data), DECODE_CHUNK):
        decoder.decode(view[offset:offset + DECODE_CHUNK])
    decoder.decode(b"", final=True)


def _decode(data: bytes) -> tuple[str, str]:
    """Return (Python codec, encoding name). UTF-8 (with or without BOM) first, then the
    detector. The text is decoded again while it is read, a chunk at a time, so a large file
    is never held as one string."""
    if data.startswith(b"\xef\xbb\xbf"):
        _check_utf8(data, 3)
        return "utf-8-sig", "UTF-8 (BOM)"
    if b"\x00" in data[:8192]:
        raise FileProblem(_l("This does not look like a CSV or XLSX file (it contains binary "
                             "data)."))
    try:
        _check_utf8(data)
        return "utf-8", "UTF-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise FileProblem(_l("This does not look like a CSV or XLSX file (its text encoding "
                             "could not be recognised)."))
    name = best.encoding.lower().replace("-", "_")
    if name in {"big5", "cp950", "big5hkscs"}:
        # CP950 is Big5 plus the characters Microsoft added; it decodes every Big5 file.
        try:
            data.decode("cp950")
            return "cp950", "Big5 (CP950)"
        except UnicodeDecodeError:
            data.decode("big5hkscs", errors="strict")
            return "big5hkscs", "Big5-HKSCS"
    return best.encoding, best.encoding


def _read_csv(data: bytes) -> Table:
    try:
        codec, encoding = _decode(data)
    except UnicodeDecodeError as exc:
        raise FileProblem(_l("The file's text could not be decoded.")) from exc
    first_line = data[:65536].decode(codec, errors="ignore").split("\n", 1)[0]
    delimiter = ","
    for candidate in ("\t", ";"):
        if first_line.count(candidate) > first_line.count(","):
            delimiter = candidate
    text = io.TextIOWrapper(io.BytesIO(data), encoding=codec, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    headers: list[str] | None = None
    rows: list[tuple[int, list[str | None]]] = []
    # One string object per distinct short value (codes, names, dates, numbers repeat on
    # many rows): a large file then takes a fraction of the memory.
    shared: dict[str, str] = {}
    try:
        for raw in reader:
            line = reader.line_num
            if len(raw) > MAX_COLUMNS:
                raise FileProblem(_l("Row %(row)s has %(n)s columns; at most %(max)s are "
                                     "allowed.", row=line, n=len(raw), max=MAX_COLUMNS))
            values = [_share(shared, _clean(v)) for v in raw]
            if headers is None:
                if not any(values):
                    continue
                headers = [v or "" for v in values]
                continue
            if not any(values):
                continue
            rows.append((line, values))
            if len(rows) > MAX_ROWS:
                raise FileProblem(_l("The file has more than %(max)s rows.", max=MAX_ROWS))
    except csv.Error as exc:
        raise FileProblem(_l("The CSV file could not be read near line %(line)s: %(error)s",
                             line=reader.line_num, error=str(exc))) from exc
    except UnicodeDecodeError as exc:
        raise FileProblem(_l("The file's text could not be decoded.")) from exc
    if headers is None:
        raise FileProblem(_l("The file is empty."))
    return Table(headers=headers, rows=rows, encoding=encoding)


# -- XLSX -----------------------------------------------------------------------------------

def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _clean(str(value))


def _pick_sheet(wb, sheet_names):
    wanted = {n.casefold() for n in sheet_names}
    for ws in wb.worksheets:
        if ws.title.casefold() in wanted:
            return ws
    return wb.worksheets[0]


def _read_xlsx(data: bytes, sheet_names: tuple[str, ...]) -> Table:
    from openpyxl import load_workbook

    try:
        # Values only: formulas are never evaluated; we read the values Excel saved.
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas_wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise FileProblem(_l("The file could not be read as an XLSX workbook.")) from exc
    try:
        if not wb.worksheets:
            raise FileProblem(_l("The workbook has no sheets."))
        ws = _pick_sheet(wb, sheet_names)
        fws = formulas_wb[ws.title]
        headers: list[str] | None = None
        rows: list[tuple[int, list[str | None]]] = []
        cell_errors: list[list] = []
        shared: dict[str, str] = {}
        for line, (vals, fvals) in enumerate(
            zip(ws.iter_rows(values_only=True), fws.iter_rows(values_only=True),
                strict=False), start=1,
        ):
            vals = list(vals)
            while vals and vals[-1] is None:
                vals.pop()
            if len(vals) > MAX_COLUMNS:
                raise FileProblem(_l("Row %(row)s has %(n)s columns; at most %(max)s are "
                                     "allowed.", row=line, n=len(vals), max=MAX_COLUMNS))
            values = [_share(shared, _cell_text(v)) for v in vals]
            formula_cols = [i for i, f in enumerate(fvals or ())
                            if isinstance(f, str) and f.startswith("=")
                            and (i >= len(vals) or vals[i] is None)]
            if headers is None:
                if not any(values):
                    continue
                headers = [v or "" for v in values]
                continue
            for i in formula_cols:
                cell_errors.append([line, headers[i] if i < len(headers) else str(i + 1),
                                    "formula"])
            if not any(values) and not formula_cols:
                continue
            rows.append((line, values))
            if len(rows) > MAX_ROWS:
                raise FileProblem(_l("The file has more than %(max)s rows.", max=MAX_ROWS))
        if headers is None:
            raise FileProblem(_l("The file is empty."))
        return Table(headers=headers, rows=rows, encoding="XLSX", cell_errors=cell_errors,
                     sheet=ws.title)
    finally:
        wb.close()
        formulas_wb.close()


# -- shared ---------------------------------------------------------------------------------

def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.replace("\u3000", " ").strip()
    # Undo our own export's formula neutralisation, so an export re-imports unchanged.
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        value = value[1:]
    return value or None


def _share(shared: dict[str, str], value: str | None) -> str | None:
    """The one stored copy of a short ``value``."""
    if value is None or len(value) > SHARED_MAX_CHARS:
        return value
    return shared.setdefault(value, value)


def _check_shape(table: Table, max_columns: int, max_cell: int) -> None:
    if len(table.headers) > max_columns:
        raise FileProblem(_l("The file has %(n)s columns; at most %(max)s are allowed.",
                             n=len(table.headers), max=max_columns))
    for line, values in table.rows:
        if len(values) > max_columns:
            raise FileProblem(_l("Row %(row)s has %(n)s columns; at most %(max)s are allowed.",
                                 row=line, n=len(values), max=max_columns))
        for value in values:
            if value is not None and len(value) > max_cell:
                raise FileProblem(_l("Row %(row)s has a cell of %(n)s characters; at most "
                                     "%(max)s are allowed.", row=line, n=len(value),
                                     max=max_cell))
    for header in table.headers:
        if len(header) > 200:
            raise FileProblem(_l("The first row does not look like column headers."))

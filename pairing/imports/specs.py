"""The department's spreadsheet formats: one column list per kind, shared by import, export
and the XLSX templates, each column with an English and a Chinese header.

Cell values are parsed here into Python values; each problem becomes a :class:`CellError`
that names the column, the value and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..common.enums import ActivityMode, ActivityType, PairingStatus

#: In the order records depend on each other (partner schools name their partner city,
#: pairings their school and partner school): the full workbook's sheets, and the order in
#: which to import them.
KINDS = ("cities", "schools", "partners", "pairings", "activities")
KIND_LABELS = {"cities": _l("Partner cities"), "schools": _l("Schools"),
               "partners": _l("Partner schools"), "pairings": _l("Pairings"),
               "activities": _l("Activities")}
#: Sheet titles in the full export workbook (import reads the sheet of the same name).
SHEET_NAMES = {"cities": ("cities", "夥伴城市"), "schools": ("schools", "學校"),
               "partners": ("partners", "夥伴學校"), "pairings": ("pairings", "締結"),
               "activities": ("activities", "交流活動")}

TRUE_WORDS = {"yes", "y", "true", "1", "v", "x", "✓", "是", "有", "t"}
FALSE_WORDS = {"no", "n", "false", "0", "否", "無", "f", "-"}
CODE_RE = re.compile(r"^[0-9A-Za-z]{6}$")


@dataclass(frozen=True)
class Column:
    key: str  # English header; also the attribute name where there is one
    zh: str  # Chinese header
    type: str = "text"  # text, code, bool, date, int, enum, email, url, country
    required: bool = False
    max_len: int | None = None
    enum: type | None = None
    example: object = None

    @property
    def headers(self) -> tuple[str, str]:
        return (self.key, self.zh)


@dataclass
class CellError:
    row: int
    column: str
    value: str | None
    reason: str

    def as_list(self) -> list:
        return [self.row, self.column, self.value, self.reason]


def _cols(*columns: Column) -> tuple[Column, ...]:
    return columns


CITY_COLUMNS = _cols(
    Column("name", "城市名稱", "text", True, 120, example="Saratoga"),
    Column("name_zh", "中譯名稱", "text", False, 120, example="薩拉托加市"),
    Column("country", "國家", "country", True, 2, example="US"),
    Column("region", "州省", "text", False, 120, example="California"),
    Column("signed_on", "簽約日期", "date", example="2023-10-05"),
    Column("twinned_on", "締結姊妹市日期", "date"),
    Column("notes", "備註", "text", False, 5000),
)

SCHOOL_COLUMNS = _cols(
    Column("code", "學校代碼", "code", True, 6, example="014501"),
    Column("name_zh", "學校名稱", "text", True, 120, example="市立淡水國小"),
    Column("name_en", "英文校名", "text", False, 200, example="Tamsui Elementary School"),
    Column("county", "縣市", "text", False, 20, example="新北市"),
    Column("district", "行政區", "text", True, 40, example="淡水區"),
    Column("primary", "國小", "bool", example="yes"),
    Column("junior", "國中", "bool", example="no"),
    Column("senior", "高中", "bool", example="no"),
    Column("public", "公立", "bool", example="yes"),
    Column("address", "地址", "text", False, 300, example="新北市淡水區中山路1號"),
    Column("phone", "電話", "text", False, 40, example="(02)26212064"),
    Column("website", "網址", "url", False, 300, example="https://www.tsps.ntpc.edu.tw"),
    Column("principal_name", "校長", "text", False, 80),
    Column("principal_email", "校長電子郵件", "email", False, 254),
    Column("enrolment", "學生數", "int", example=850),
    Column("closed_on", "停辦日期", "date"),
)

PARTNER_COLUMNS = _cols(
    Column("name", "校名", "text", True, 200, example="Holmdel High School"),
    Column("name_local", "當地校名", "text", False, 200),
    Column("country", "國家", "country", True, 2, example="US"),
    Column("region", "州省", "text", False, 120, example="New Jersey"),
    Column("city", "城市", "text", False, 120, example="Holmdel"),
    Column("primary", "國小", "bool", example="no"),
    Column("junior", "國中", "bool", example="no"),
    Column("senior", "高中", "bool", example="yes"),
    Column("website", "網址", "url", False, 300),
    Column("contact_name", "聯絡人", "text", False, 120),
    Column("contact_email", "聯絡人電子郵件", "email", False, 254),
    Column("partner_city", "友好城市", "text", False, 120, example="Holmdel"),
)

_PARTNER_REF = (
    Column("school_code", "學校代碼", "code", True, 6, example="014501"),
    Column("partner_name", "夥伴學校", "text", True, 200, example="Holmdel High School"),
    Column("partner_country", "夥伴國家", "country", False, 2, example="US"),
    Column("partner_city", "夥伴城市", "text", False, 120, example="Holmdel"),
)

PAIRING_COLUMNS = _cols(
    *_PARTNER_REF,
    Column("status", "狀態", "enum", True, enum=PairingStatus, example="active"),
    Column("signed_on", "簽約日期", "date", example="2024-03-01"),
    Column("start_on", "開始日期", "date", example="2024-03-01"),
    Column("end_on", "到期日期", "date"),
    Column("ended_on", "終止日期", "date"),
    Column("focus_areas", "合作重點", "text", False, 300),
    Column("coordinator", "承辦人", "text", False, 120),
    Column("notes", "備註", "text", False, 5000),
)

ACTIVITY_COLUMNS = _cols(
    *_PARTNER_REF,
    Column("title", "活動名稱", "text", True, 200, example="Online cultural exchange"),
    Column("type", "類型", "enum", True, enum=ActivityType, example="virtual_exchange"),
    Column("mode", "形式", "enum", True, enum=ActivityMode, example="virtual"),
    Column("start_on", "開始日期", "date", True, example="2024-05-01"),
    Column("end_on", "結束日期", "date"),
    Column("local_students", "本地學生數", "int", example=25),
    Column("local_teachers", "本地教師數", "int", example=2),
    Column("partner_students", "夥伴學生數", "int", example=20),
    Column("partner_teachers", "夥伴教師數", "int", example=2),
    Column("description", "說明", "text", False, 5000),
    Column("evidence_url", "成果網址", "url", False, 500),
)

COLUMNS = {"cities": CITY_COLUMNS, "schools": SCHOOL_COLUMNS, "partners": PARTNER_COLUMNS,
           "pairings": PAIRING_COLUMNS, "activities": ACTIVITY_COLUMNS}


def normalise_header(text: str) -> str:
    return re.sub(r"[\s_\-*]+", "", (text or "").casefold())


def header_map(columns: tuple[Column, ...]) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for col in columns:
        for h in col.headers:
            out[normalise_header(h)] = col
    return out


# -- value parsers --------------------------------------------------------------------------

class BadValue(ValueError):
    pass


def parse_bool(text: str) -> bool:
    word = text.strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise BadValue(_l("Write yes or no."))


_DATE_RES = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00)?)?$"),
    re.compile(r"^(\d{2,3})[-/.](\d{1,2})[-/.](\d{1,2})$"),  # ROC year: 113/05/01
)


def parse_date(text: str) -> date:
    text = text.strip()
    for i, pattern in enumerate(_DATE_RES):
        m = pattern.match(text)
        if m:
            year, month, day = (int(g) for g in m.groups())
            if i == 1:
                year += 1911
            try:
                return date(year, month, day)
            except ValueError:
                break
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    raise BadValue(_l("Not a date; write it as YYYY-MM-DD."))


def parse_int(text: str) -> int:
    text = text.strip().replace(",", "")
    try:
        value = int(float(text)) if re.fullmatch(r"-?\d+(\.0+)?", text) else int(text)
    except ValueError as exc:
        raise BadValue(_l("Not a whole number.")) from exc
    if value < 0:
        raise BadValue(_l("Cannot be negative."))
    if value > 10_000_000:
        raise BadValue(_l("Too large."))
    return value


def parse_code(text: str) -> str:
    code = text.strip().upper()
    if code.isdigit() and len(code) < 6:
        code = code.zfill(6)  # a spreadsheet that turned 014501 into the number 14501
    if not CODE_RE.match(code):
        raise BadValue(_l("A school code has 6 letters or digits."))
    return code


_ENUM_WORDS: dict[type, dict[str, object]] = {}


def enum_words(enum_cls) -> dict[str, object]:
    """Value, English label and Chinese label of each member, casefolded.

    Computed once per process (labels come from the compiled catalogs): parsing calls this
    for every cell of an enum column.
    """
    cached = _ENUM_WORDS.get(enum_cls)
    if cached is not None:
        return cached
    words: dict[str, object] = {}
    complete = True
    for member in enum_cls:
        words[member.value.casefold()] = member
        words[member.name.casefold()] = member
        for locale in ("en", "zh_TW"):
            try:
                with force_locale(locale):
                    words[str(member.label).casefold()] = member
            except RuntimeError:  # outside an app context: values only, not cached
                complete = False
    if complete:
        _ENUM_WORDS[enum_cls] = words
    return words


def parse_enum(text: str, enum_cls) -> object:
    member = enum_words(enum_cls).get(text.strip().casefold())
    if member is None:
        allowed = ", ".join(m.value for m in enum_cls)
        raise BadValue(_l("Unknown value; use one of: %(allowed)s.", allowed=allowed))
    return member


def country_words() -> dict[str, str]:
    from ..common.i18n import _territories

    words: dict[str, str] = {}
    for locale in ("en", "zh_Hant_TW"):
        for code, name in _territories(locale).items():
            words[name.casefold()] = code
    for code in _territories("en"):
        words[code.casefold()] = code
    words.update({"usa": "US", "u.s.a.": "US", "u.s.": "US", "uk": "GB", "美國": "US",
                  "日本": "JP", "韓國": "KR", "英國": "GB"})
    return words


def parse_country(text: str, words: dict[str, str]) -> str:
    code = words.get(text.strip().casefold())
    if code is None:
        raise BadValue(_l("Unknown country; write its two-letter code (US, JP) or its name."))
    return code


def parse_email(text: str) -> str:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise BadValue(_l("Not a valid e-mail address.")) from exc


def parse_url(text: str) -> str:
    text = text.strip()
    if not re.match(r"^https?://[^\s/$.?#].[^\s]*$", text, re.IGNORECASE):
        if re.match(r"^[\w-]+(\.[\w-]+)+(/\S*)?$", text):
            return "https://" + text
        raise BadValue(_l("Not a web address (https://…)."))
    return text


def parse_cell(col: Column, raw: str | None, countries: dict[str, str]):
    """The Python value of one cell (None for an empty cell). Raises BadValue."""
    if raw is None or raw == "":
        if col.required:
            raise BadValue(_l("Required."))
        return None
    if col.max_len and col.type in ("text", "email", "url") and len(raw) > col.max_len:
        raise BadValue(_l("Too long (at most %(n)s characters).", n=col.max_len))
    if col.type == "text":
        return raw
    if col.type == "code":
        return parse_code(raw)
    if col.type == "bool":
        return parse_bool(raw)
    if col.type == "date":
        return parse_date(raw)
    if col.type == "int":
        return parse_int(raw)
    if col.type == "enum":
        return parse_enum(raw, col.enum)
    if col.type == "email":
        return parse_email(raw)
    if col.type == "url":
        return parse_url(raw)
    if col.type == "country":
        return parse_country(raw, countries)
    raise AssertionError(col.type)  # pragma: no cover

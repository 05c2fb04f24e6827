"""The Ministry of Education's open-data school directories (國民小學名錄, 國民中學名錄,
高級中等學校名錄): recognising the format, the level, the county and the district."""

from __future__ import annotations

import re
from collections import Counter

from ..common.enums import Level

#: Normalised header -> field. 備註 appears in the senior-high directory only.
MINISTRY_HEADERS = {
    "學年度": "year", "代碼": "code", "學校代碼": "code", "學校名稱": "name", "公/私立": "sector",
    "公私立": "sector", "縣市名稱": "county", "地址": "address", "電話": "phone", "網址": "website",
    "備註": "remark",
}
REQUIRED = ("code", "name", "county", "address")
WHOLE_COUNTRY = "全國"

_BRACKET = re.compile(r"^\s*\[([^\]]*)\]\s*")


def _norm_header(h: str) -> str:
    return re.sub(r"\s+", "", h or "")


def is_ministry(headers: list[str]) -> bool:
    names = {_norm_header(h) for h in headers}
    return {"代碼", "學校名稱", "縣市名稱"} <= names


def column_fields(headers: list[str]) -> list[str | None]:
    """The field of each column (None for an empty header)."""
    return [MINISTRY_HEADERS.get(_norm_header(h)) if h else None for h in headers]


def normalise_county(name: str | None) -> str:
    """'[01]新北市' -> '新北市'; 台 and 臺 are the same character in county names."""
    if not name:
        return ""
    return _BRACKET.sub("", name).strip().replace("台", "臺")


def same_county(a: str | None, b: str | None) -> bool:
    return normalise_county(a) == normalise_county(b)


def in_jurisdiction(county: str, jurisdiction: str) -> bool:
    return jurisdiction == WHOLE_COUNTRY or same_county(county, jurisdiction)


def split_address(address: str | None, county: str,
                  known: set[str] | frozenset[str] = frozenset(),
                  ) -> tuple[str | None, str, str | None]:
    """'[234]新北市永和區福和路125巷20號' -> ('234', '新北市永和區福和路125巷20號', '永和區').

    The district is what follows the county name up to 區/鄉/鎮/市; names the database already
    knows for the county win (so 新市區 is not cut at 新市).
    """
    if not address:
        return None, "", None
    postal = None
    m = _BRACKET.match(address)
    if m:
        postal = m.group(1).strip() or None
        address = address[m.end():]
    address = address.strip()
    rest = address
    county_norm = normalise_county(county)
    if rest.replace("台", "臺").startswith(county_norm) and county_norm:
        rest = rest[len(county_norm):]
    for name in sorted(known, key=len, reverse=True):
        if rest.startswith(name):
            return postal, address, name
    for suffix in ("區", "鄉", "鎮", "市"):
        m = re.match(rf"^(\S{{1,3}}?{suffix})", rest)
        if m:
            return postal, address, m.group(1)
    return postal, address, None


LEVEL_WORDS = (
    (Level.PRIMARY, ("國小", "國民小學", "小學")),
    (Level.JUNIOR, ("國中", "國民中學")),
    (Level.SENIOR, ("高中", "高職", "高級中等", "高級中學", "高工", "高商", "高農", "高家",
                    "中學")),
)


def level_of_name(name: str) -> Level | None:
    for level, words in LEVEL_WORDS:
        if any(w in name for w in words):
            return level
    return None


def detect_level(headers: list[str], names: list[str]) -> Level | None:
    """備註 marks the senior-high directory; otherwise the most common level in the names."""
    if "remark" in column_fields(headers):
        return Level.SENIOR
    counts = Counter(lv for lv in (level_of_name(n) for n in names) if lv is not None)
    if not counts:
        return None
    (best, n), *rest = counts.most_common()
    if rest and rest[0][1] == n:
        return None
    return best

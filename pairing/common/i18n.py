"""Locale helpers: country names from Babel's CLDR data, school years, locale choice."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from babel import Locale
from flask import current_app, has_request_context, request
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

LOCALE_COOKIE = "lang"


def _ui_locale() -> Locale:
    loc = get_locale()
    return loc if loc is not None else Locale.parse("zh_TW")


@lru_cache(maxsize=8)
def _territories(locale_str: str) -> dict[str, str]:
    loc = Locale.parse(locale_str)
    # Only ISO 3166-1 alpha-2 codes (two letters), not regions such as "001" or "EU".
    return {k: v for k, v in loc.territories.items() if len(k) == 2 and k.isalpha()}


def country_name(code: str | None) -> str:
    """The country's name in the reader's language (美國 / United States)."""
    if not code:
        return ""
    return _territories(str(_ui_locale())).get(code.upper(), code.upper())


def country_choices() -> list[tuple[str, str]]:
    """(alpha-2, name) pairs sorted by name in the reader's language."""
    names = _territories(str(_ui_locale()))
    skip = {"ZZ", "XA", "XB", "XK", "EZ", "UN", "QO", "EU"}
    return sorted(((k, v) for k, v in names.items() if k not in skip), key=lambda kv: kv[1])


def valid_country(code: str | None) -> bool:
    return bool(code) and code.upper() in _territories("en")


def school_year_of(day: date) -> int:
    """School years run August to July; returns the Gregorian year the school year starts."""
    return day.year if day.month >= 8 else day.year - 1


def school_year_label(start_year: int) -> str:
    """112學年度 in zh-TW (ROC calendar), 2023-24 in English."""
    if _ui_locale().language == "zh":
        return f"{start_year - 1911}學年度"
    return f"{start_year}-{str(start_year + 1)[-2:]}"


def select_locale() -> str:
    """The user's saved choice, else the cookie, else Accept-Language, else the default."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and services called outside a request
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in languages:
        return user_locale
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in languages:
        return cookie
    best = request.accept_languages.best_match(
        ["zh_TW", "zh-TW", "zh", "zh-Hant", "en", "en-US", "en-GB"]
    )
    if best:
        return "en" if best.startswith("en") else "zh_TW"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@lru_cache(maxsize=8)
def _wtforms_catalog(name: str):
    from babel.support import Translations
    from wtforms.i18n import messages_path

    return Translations.load(messages_path(), [name], domain="wtforms")


class _WTFormsTranslations:
    """WTForms' built-in messages (e.g. "This field is required.") in the reader's language.

    Flask-WTF loads WTForms' catalog by ``str(get_locale())``, i.e. "zh_Hant_TW", which gettext
    resolves to WTForms' Simplified Chinese "zh" catalog. Looked up lazily, by language and
    territory, so the Traditional "zh_TW" one is used."""

    @staticmethod
    def _catalog():
        loc = _ui_locale()
        return _wtforms_catalog(f"{loc.language}_{loc.territory}" if loc.territory
                                else loc.language)

    def ugettext(self, string: str) -> str:
        own = gettext(string)  # our wording first (see _WTFORMS_REWORDED), then WTForms'
        return own if own != string else self._catalog().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog().ungettext(singular, plural, n)


_WTFORMS_TRANSLATIONS = _WTFormsTranslations()

# WTForms' most frequent messages, translated in our own catalog where its wording is stiff.
_WTFORMS_REWORDED = (_l("This field is required."), _l("Not a valid integer value."),
                     _l("Not a valid date value."), _l("Not a valid decimal value."),
                     _l("Invalid email address."), _l("Not a valid choice."))


def use_wtforms_catalog() -> None:
    """before_request: Flask-WTF reuses ``request.wtforms_translations`` when it is set."""
    request.wtforms_translations = _WTFORMS_TRANSLATIONS


# Taiwan's counties and cities (official English names), for English readers.
_COUNTIES_EN = {
    "臺北市": "Taipei City", "新北市": "New Taipei City", "桃園市": "Taoyuan City",
    "臺中市": "Taichung City", "臺南市": "Tainan City", "高雄市": "Kaohsiung City",
    "基隆市": "Keelung City", "新竹市": "Hsinchu City", "嘉義市": "Chiayi City",
    "新竹縣": "Hsinchu County", "苗栗縣": "Miaoli County", "彰化縣": "Changhua County",
    "南投縣": "Nantou County", "雲林縣": "Yunlin County", "嘉義縣": "Chiayi County",
    "屏東縣": "Pingtung County", "宜蘭縣": "Yilan County", "花蓮縣": "Hualien County",
    "臺東縣": "Taitung County", "澎湖縣": "Penghu County", "金門縣": "Kinmen County",
    "連江縣": "Lienchiang County",
}


def county_name(county: str | None) -> str:
    """A county or city (新北市) in the reader's language (New Taipei City in English)."""
    if not county:
        return ""
    if _ui_locale().language == "zh":
        return county
    return _COUNTIES_EN.get(county.strip().replace("台", "臺"), county)

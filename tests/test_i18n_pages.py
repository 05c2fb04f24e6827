"""Every main page renders wholly in the chosen language: no English UI label left on a zh-TW
page and no Chinese label on an English page, except data (a school's Chinese name is data).

The visible text is the page's text nodes plus placeholder, title, aria-label and alt attributes,
without scripts and styles, without <code> (identifiers such as import column keys and audit
field names) and without the audit trail's stored "field: value" lines (saved data, shown as
stored). The data values this module creates are removed before checking."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from pairing.accounts.models import User
from pairing.common.enums import ActivityMode, ActivityType
from pairing.extensions import db
from pairing.imports.specs import COLUMNS

from . import factories

# Data values created below; they may appear in either language.
DATA = ("Alpha Primary", "Beta Junior", "Banqiao District", "Lincoln Academy", "Springfield",
        "Oregon", "Kite Day", "Wang", "甲國小", "乙國中", "板橋區", "014501", "014502",
        "(US)")  # the country code next to its name
USER_NAME = "Wang"

# UI labels that must not be left in English on a zh-TW page (whole words).
ENGLISH_LABELS = (
    "Schools", "School", "Partner schools", "Partner cities", "Pairings", "Pairing", "Activities",
    "Activity", "Dashboard", "Import", "Export", "Audit trail", "Users", "Settings", "Search",
    "Save", "Cancel", "Apply", "Reset", "Sign out", "Change password", "Next", "Previous",
    "records", "Status", "District", "Level", "Country", "Name", "Date", "Edit", "Delete",
    "All", "Primary school", "Junior high school", "Active", "Public", "Private", "Virtual",
    "United States", "History", "Overview", "Details", "Signed", "Title", "Type", "Mode",
)
# ASCII words allowed on zh-TW pages: file formats, the date pattern, the language switch.
ASCII_OK = {"CSV", "XLSX", "Excel", "YYYY", "MM", "DD", "MOU", "English"}
# Per page: deliberate English in the zh-TW text (the import help lists yes/no as accepted).
ASCII_OK_ON = {"/imports/": {"yes", "no"},
               # the file's name, encoding, header and bad value, echoed from the file
               "/imports/preview": {"schools", "csv", "UTF", "primary", "maybe", "yes", "no"}}

CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
EMAIL = re.compile(r"[\w.+-]+@[\w.-]+")
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")


class _VisibleText(HTMLParser):
    ATTRS = ("placeholder", "title", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0          # inside <script>, <style> or <code>
        self.li_fresh = False        # an <li> with no text yet
        self.skip_li = False         # an audit "field: value" line

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "bdi"):  # <bdi>: audit values (data)
            if tag == "code" and self.li_fresh:
                self.skip_li = True
            self.skip_depth += 1
            return
        if tag == "li":
            self.li_fresh = True
        attrs = dict(attrs)
        if not self.skip_li:
            self.parts.extend(attrs[a] for a in self.ATTRS if attrs.get(a))
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "bdi"):
            self.skip_depth -= 1
        elif tag == "li":
            self.li_fresh = self.skip_li = False

    def handle_data(self, data):
        if data.strip():
            self.li_fresh = False
        if not self.skip_depth and not self.skip_li:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    text = EMAIL.sub(" ", text)
    for value in sorted(DATA, key=len, reverse=True):
        text = text.replace(value, " ")
    return re.sub(r"\s+", " ", text)


def english_leftovers(text: str, url: str) -> list[str]:
    found = [label for label in ENGLISH_LABELS
             if re.search(rf"(?<![A-Za-z]){re.escape(label)}(?![A-Za-z])", text)]
    allowed = ASCII_OK | ASCII_OK_ON.get(url, set())
    found += sorted({w for w in WORD.findall(text) if w not in allowed})
    return list(dict.fromkeys(found))


def chinese_leftovers(text: str, url: str) -> list[str]:
    text = text.replace("中文", " ")  # the language switch, deliberately in Chinese
    if url == "/imports/":
        # Deliberate: the accepted Chinese column headers, the Ministry directories' own names
        # and the Chinese yes/no words the import accepts.
        zh = {c.zh for cols in COLUMNS.values() for c in cols}
        zh |= {"國民小學名錄", "國民中學名錄", "高級中等學校名錄", "是", "否"}
        for word in sorted(zh, key=len, reverse=True):
            text = text.replace(word, " ")
    return [m.group(0) + ": …" + text[max(m.start() - 30, 0):m.end() + 30] + "…"
            for m in CJK.finditer(text)]


@pytest.fixture
def world(app):
    with app.app_context():
        s = db.session
        district = factories.make_district(s, name_zh="板橋區", name_en="Banqiao District")
        alpha = factories.make_school(s, code="014501", name_zh="甲國小", name_en="Alpha Primary",
                                      district=district)
        factories.make_school(s, code="014502", name_zh="乙國中", name_en="Beta Junior",
                              district=district, levels=("junior",))
        city = factories.make_partner_city(s, name="Springfield", region="Oregon")
        partner = factories.make_partner_school(s, name="Lincoln Academy", city="Springfield",
                                                region="Oregon", partner_city=city)
        pairing = factories.make_pairing(s, school=alpha, partner=partner,
                                         signed_on=date(2023, 1, 15))
        factories.make_activity(s, pairing=pairing, title="Kite Day",
                                type=ActivityType.VIRTUAL, mode=ActivityMode.VIRTUAL,
                                start_on=date(2024, 3, 1))
        s.commit()
        return {"school": alpha.id, "partner": partner.id, "city": city.id,
                "pairing": pairing.id}


def _sign_in(app, login_as, role: str) -> int:
    user_id = login_as(role)
    with app.app_context():
        db.session.get(User, user_id).name = USER_NAME
        db.session.commit()
    return user_id


def _staff_pages(w) -> list[str]:
    return ["/", "/schools/", f"/schools/{w['school']}", "/schools/new", "/partners/",
            f"/partners/{w['partner']}", "/partners/cities", f"/partners/cities/{w['city']}",
            "/pairings/", f"/pairings/{w['pairing']}", "/pairings/new",
            f"/pairings/{w['pairing']}/activities/new", "/pairings/activities", "/dashboard/",
            "/imports/", "/audit/", "/auth/password"]


def _render_all(client, lang: str, urls: list[str]) -> dict[str, str]:
    client.set_cookie("lang", lang)
    pages = {}
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        pages[url] = resp.get_data(as_text=True)
    return pages


def _assert_zh(pages: dict[str, str]) -> None:
    problems = {}
    for url, html in pages.items():
        assert '<html lang="zh-Hant-TW">' in html, url
        left = english_leftovers(visible_text(html), url)
        if left:
            problems[url] = left
    assert not problems, f"English left on zh-TW pages: {problems}"


def _assert_en(pages: dict[str, str]) -> None:
    problems = {}
    for url, html in pages.items():
        assert '<html lang="en">' in html, url
        left = chinese_leftovers(visible_text(html), url)
        if left:
            problems[url] = left[:5]
    assert not problems, f"Chinese left on English pages: {problems}"


def test_staff_pages_in_traditional_chinese(app, client, login_as, world):
    _sign_in(app, login_as, "staff")
    pages = _render_all(client, "zh_TW", _staff_pages(world))
    _assert_zh(pages)
    # Enum labels, country names (CLDR), dates and the ROC school year in zh-TW.
    pairing = visible_text(pages[f"/pairings/{world['pairing']}"])
    for expected in ("已締約（生效中）", "美國", "2023年1月15日", "視訊交流", "線上"):
        assert expected in pairing, expected
    assert "國小" in visible_text(pages["/schools/"])
    assert "登出" in pages["/"] and "姊妹校" in pages["/"]
    assert "共 2 筆，第 1／1 頁" in visible_text(pages["/schools/"])
    charts = _charts(pages["/dashboard/"])
    assert charts["levels"]["layout"]["title"]["text"] == "各學制締約率"
    assert charts["levels"]["data"][0]["x"] == ["國小", "國中", "高中職"]
    assert "112學年度" in charts["school-years"]["data"][0]["x"]
    assert charts["countries"]["data"][0]["y"] == ["美國"]
    assert '"locale": "zh-TW"' in pages["/dashboard/"]


def test_staff_pages_in_english(app, client, login_as, world):
    _sign_in(app, login_as, "staff")
    pages = _render_all(client, "en", _staff_pages(world))
    _assert_en(pages)
    pairing = visible_text(pages[f"/pairings/{world['pairing']}"])
    for expected in ("Active (signed)", "United States", "Jan 15, 2023", "Virtual exchange"):
        assert expected in pairing, expected
    assert "Primary school" in visible_text(pages["/schools/"])
    assert "2 records, page 1 of 1" in visible_text(pages["/schools/"])
    assert "New Taipei City" in visible_text(pages["/"])
    charts = _charts(pages["/dashboard/"])
    assert charts["levels"]["layout"]["title"]["text"] == "Paired share by level"
    assert charts["levels"]["data"][0]["x"] == ["Primary school", "Junior high school",
                                                "Senior high school"]
    assert "2023-24" in charts["school-years"]["data"][0]["x"]
    assert charts["countries"]["data"][0]["y"] == ["United States"]


@pytest.mark.parametrize("lang", ["zh_TW", "en"])
def test_admin_pages_in_both_languages(app, client, login_as, world, lang):
    user_id = _sign_in(app, login_as, "admin")
    pages = _render_all(client, lang, ["/users/", f"/users/{user_id}", "/users/new",
                                       "/dashboard/settings"])
    if lang == "zh_TW":
        _assert_zh(pages)
        assert "系統管理員" in visible_text(pages["/users/"])
    else:
        _assert_en(pages)
        assert "Administrator" in visible_text(pages["/users/"])


@pytest.mark.parametrize("lang", ["zh_TW", "en"])
def test_sign_in_and_error_pages_in_both_languages(client, lang):
    client.set_cookie("lang", lang)
    login = client.get("/auth/login")
    assert login.status_code == 200
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    pages = {"/auth/login": login.get_data(as_text=True),
             "/no-such-page": missing.get_data(as_text=True)}
    if lang == "zh_TW":
        _assert_zh(pages)
        assert "找不到頁面" in pages["/no-such-page"]
    else:
        _assert_en(pages)
        assert "Page not found" in pages["/no-such-page"]


def test_import_preview_in_both_languages(app, client, login_as, world):
    """The preview's counts, notes and cell errors follow the reader's language."""
    _sign_in(app, login_as, "staff")
    csv = ("code,name_zh,name_en,county,district,primary,junior,senior,public\n"
           "014503,丙國小,Gamma Primary,新北市,板橋區,yes,no,no,yes\n"
           "014504,丁國小,Delta Primary,新北市,板橋區,maybe,no,no,yes\n").encode()
    client.set_cookie("lang", "zh_TW")
    resp = client.post("/imports/upload", content_type="multipart/form-data",
                       data={"kind": "schools", "level": "",
                             "file": (io.BytesIO(csv), "schools.csv")})
    assert resp.status_code == 302
    url = resp.headers["Location"]
    data = ("丙國小", "丁國小", "Gamma Primary", "Delta Primary", "新北市")
    pages = _render_all(client, "zh_TW", [url])
    text = _without(visible_text(pages[url]), data)
    assert english_leftovers(text, "/imports/preview") == []
    assert "請填「是」或「否」（yes 或 no）。" in text and "有 1 列資料有誤" in text
    pages = _render_all(client, "en", [url])
    text = _without(visible_text(pages[url]), data)
    assert chinese_leftovers(text, "/imports/preview") == []
    assert "Write yes or no." in text and "1 row is invalid." in text
    with app.app_context():
        from pairing.schools.models import School
        assert db.session.query(School).count() == 2  # nothing imported by a preview


def _without(text: str, values) -> str:
    for value in values:
        text = text.replace(value, " ")
    return text


def test_wtforms_builtin_messages_follow_the_language(app, client, login_as, world):
    """WTForms' own messages read in Traditional Chinese (not WTForms' Simplified catalog)."""
    _sign_in(app, login_as, "staff")
    bad = {"code": "", "name_zh": "", "district_id": "", "enrolment": "many"}
    client.set_cookie("lang", "zh_TW")
    zh = client.post("/schools/new", data=bad)
    assert zh.status_code in (200, 422)
    html = zh.get_data(as_text=True)
    # Our wording for the frequent ones; WTForms' Traditional Chinese catalog for the rest.
    assert "此欄位為必填。" in html and "請輸入整數。" in html
    assert "该字段" not in html and "This field is required." not in html
    client.set_cookie("lang", "en")
    html = client.post("/schools/new", data=bad).get_data(as_text=True)
    assert "This field is required." in html and "Not a valid integer value." in html
    with app.app_context():
        from pairing.schools.models import School
        assert db.session.query(School).count() == 2


def test_flash_messages_follow_the_language(app, client, login_as):
    _sign_in(app, login_as, "staff")
    client.set_cookie("lang", "zh_TW")
    resp = client.post("/auth/logout", follow_redirects=True)
    assert "您已登出。" in resp.get_data(as_text=True)


def _charts(html: str) -> dict[str, dict]:
    found = re.findall(r'id="chart-([\w-]+)-data"[^>]*>(.*?)</script>', html, re.S)
    assert found, "no chart data on the dashboard"
    return {cid: json.loads(body) for cid, body in found}


def test_wtforms_messages_without_our_wording_use_its_traditional_catalog(app):
    from pairing.common.i18n import _WTFORMS_TRANSLATIONS as wtf

    too_long = ("Field cannot be longer than %(max)d character.",
                "Field cannot be longer than %(max)d characters.")
    with app.test_request_context(headers={"Cookie": "lang=zh_TW"}):
        assert wtf.ugettext("Invalid URL.") == "無效的網址。"
        assert wtf.ungettext(*too_long, 5) == "欄位長度不能超過 %(max)d 個字元。"
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert wtf.ugettext("Invalid URL.") == "Invalid URL."
        assert wtf.ungettext(*too_long, 5) == too_long[1]

"""Importing the Ministry of Education's school directories through the two-step web import,
and every bad-file case: a clear message and nothing changed."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from pairing.audit.models import AuditLog
from pairing.extensions import db
from pairing.schools.models import District, School

from . import factories
from . import fixtures_imports as fx


@pytest.fixture
def app_config():
    """Assert on the English texts (the default locale is zh-TW)."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


def upload(client, data: bytes, filename: str, kind: str = "schools", level: str = "",
           only_valid: bool = False):
    form = {"kind": kind, "level": level, "file": (io.BytesIO(data), filename)}
    if only_valid:
        form["only_valid"] = "y"
    return client.post("/imports/upload", data=form, content_type="multipart/form-data")


def preview(client, resp):
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    location = resp.headers["Location"]
    token = re.search(r"/imports/preview/([A-Za-z0-9_-]+)", location).group(1)
    page = client.get(location)
    assert page.status_code == 200
    return token, page.get_data(as_text=True)


def count_in(html: str, name: str) -> int:
    return int(re.search(rf'data-count="{name}">(\d+)<', html).group(1))


def import_file(client, data, filename, **kw):
    token, html = preview(client, upload(client, data, filename, **kw))
    resp = client.post("/imports/confirm", data={"token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1000]
    return html


def schools(app) -> dict[str, School]:
    with app.app_context():
        rows = db.session.scalars(sa.select(School).options(sa.orm.joinedload(School.district)))
        out = {s.code: s for s in rows}
        db.session.expunge_all()
        return out


def state(app) -> tuple:
    """Everything an import may change, to compare before and after a refused import."""
    with app.app_context():
        school_rows = db.session.execute(sa.select(
            School.code, School.name_zh, School.phone, School.serves_primary,
            School.serves_junior, School.serves_senior, School.version).order_by(School.code))
        return (tuple(school_rows),
                db.session.scalar(sa.select(sa.func.count()).select_from(District)),
                db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                                  .where(AuditLog.action.in_(["import", "create", "update"]))))


@pytest.fixture
def staff(login_as):
    return login_as("staff")


# -- the Ministry's directories -------------------------------------------------------------

def test_primary_directory_in_big5_previews_then_imports(app, client, staff):
    token, html = preview(client, upload(client, fx.ministry_primary_big5(), "國民小學名錄.csv"))
    assert "Big5" in html  # the preview names the encoding it used
    assert count_in(html, "new") == fx.PRIMARY_NTPC
    assert count_in(html, "skipped") == 2  # Taipei and Taichung
    assert count_in(html, "invalid") == 0
    assert "私立育才國小" in html
    assert schools(app) == {}, "the preview saves nothing"

    resp = client.post("/imports/confirm", data={"token": token})
    assert resp.status_code == 302
    found = schools(app)
    assert sorted(found) == ["011601", "014601", "014602", "014779", "01A402"]
    yucai = found["011601"]
    assert yucai.name_zh == "私立育才國小"
    assert (yucai.district.county, yucai.district.name_zh) == ("新北市", "永和區")
    assert yucai.is_public is False
    assert yucai.phone == "(02)29214630"
    assert yucai.address == "新北市永和區福和路125巷20號"
    assert yucai.levels == ["primary"]
    # [31]新北市 is New Taipei too: the county is matched by name, not by its bracket code.
    assert found["014779"].district.name_zh == "烏來區"
    assert found["014779"].district.postal_code == "233"
    with app.app_context():
        audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "import")).all()
        assert len(audit) == 1
        assert audit[0].label == "國民小學名錄.csv"
        assert audit[0].changes["new"] == 5 and audit[0].changes["skipped"] == 2
        assert audit[0].user_id == staff
        creates = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.action == "create", AuditLog.entity_type == "school"))
        assert creates == 5
    # The stored upload is used once.
    assert client.post("/imports/confirm", data={"token": token}).status_code == 404


def test_three_level_files_make_combined_schools(app, client, staff):
    import_file(client, fx.ministry_primary_big5(), "primary.csv")
    html = import_file(client, fx.ministry_junior_utf8_bom(), "junior.csv", level="junior")
    assert "UTF-8 (BOM)" in html
    assert count_in(html, "new") == 2 and count_in(html, "changed") == 1
    html = import_file(client, fx.ministry_senior_xlsx(), "senior.xlsx")
    assert "Senior high school" in html  # recognised from the 備註 column
    found = schools(app)
    assert len(found) == 8
    assert found["01A402"].levels == ["primary", "junior", "senior"]  # a letter in the code
    assert found["014357"].levels == ["junior", "senior"]
    assert found["013303"].levels == ["senior"] and found["013303"].is_public is True
    assert found["014301"].district.name_zh == "板橋區"
    assert found["014357"].district.name_zh == "蘆洲區"

    # Re-importing the primary file keeps the other files' levels.
    html = import_file(client, fx.ministry_primary_big5(), "primary.csv")
    assert count_in(html, "unchanged") == 5 and count_in(html, "changed") == 0
    assert schools(app)["01A402"].levels == ["primary", "junior", "senior"]


def test_reimport_is_idempotent_and_reports_updates_and_missing(app, client, staff):
    import_file(client, fx.ministry_primary_big5(), "primary.csv")
    before = state(app)
    token, html = preview(client, upload(client, fx.ministry_primary_big5(), "primary.csv"))
    assert count_in(html, "unchanged") == 5 and count_in(html, "new") == 0
    assert "Nothing to import" in html
    assert state(app) == before

    rows = [list(r) for r in fx.PRIMARY_ROWS if r[1] != "014602"]  # 新埔 left the directory
    rows[0][2] = "市立板橋實驗國小"
    rows[0][6] = "(02)29680000"
    token, html = preview(client, upload(client, fx.ministry_primary_big5(rows), "next.csv"))
    assert count_in(html, "changed") == 1 and count_in(html, "missing") == 1
    assert "市立板橋實驗國小" in html and "(02)29680000" in html  # the changes are shown
    assert "014602 市立新埔國小" in html
    client.post("/imports/confirm", data={"token": token})
    found = schools(app)
    assert found["014601"].name_zh == "市立板橋實驗國小"
    assert found["014601"].phone == "(02)29680000"
    assert "014602" in found, "a school missing from the directory is never deleted"
    with app.app_context():
        history = db.session.scalars(sa.select(AuditLog).where(
            AuditLog.action == "update", AuditLog.entity_type == "school")).all()
        assert len(history) == 1
        assert history[0].changes["phone"] == ["(02)29686834", "(02)29680000"]


def test_whole_country_keeps_every_row_and_creates_districts_per_county(app, client, staff):
    app.config["JURISDICTION"] = "全國"
    html = import_file(client, fx.ministry_primary_big5(), "primary.csv")
    assert count_in(html, "new") == 7 and count_in(html, "skipped") == 0
    found = schools(app)
    assert (found["353601"].district.county, found["353601"].district.name_zh) == \
        ("臺北市", "中正區")
    assert (found["193601"].district.county, found["193601"].district.name_zh) == \
        ("臺中市", "西區")


def test_known_districts_are_reused(app, client, staff):
    with app.app_context():
        district = factories.make_district(db.session, name_zh="板橋區", name_en="Banqiao")
        db.session.commit()
        district_id = district.id
    import_file(client, fx.ministry_primary_big5(), "primary.csv")
    assert schools(app)["014601"].district_id == district_id


def test_level_that_cannot_be_recognised_must_be_chosen(app, client, staff):
    # Two junior and two senior names, no 備註 column: ambiguous.
    resp = upload(client, fx.ministry_junior_utf8_bom(), "junior.csv")
    assert resp.status_code == 422
    assert "choose the level" in resp.get_data(as_text=True)
    assert schools(app) == {}


def test_invalid_ministry_rows_block_the_import_unless_only_valid(app, client, staff):
    rows = [list(r) for r in fx.PRIMARY_ROWS]
    rows[1][1] = "01-602"
    rows[2][5] = "[234]永和"  # no district in the address
    token, html = preview(client, upload(client, fx.ministry_primary_big5(rows), "bad.csv"))
    assert count_in(html, "invalid") == 2
    assert "A school code has 6 letters or digits." in html
    assert "could not be found in the address" in html
    assert "Import only the valid rows" in html
    resp = client.post("/imports/confirm", data={"token": token}, follow_redirects=True)
    assert "2 rows are invalid; nothing was imported." in resp.get_data(as_text=True)
    assert schools(app) == {}

    html = import_file(client, fx.ministry_primary_big5(rows), "bad.csv", only_valid=True)
    assert sorted(schools(app)) == ["014601", "014779", "01A402"]


# -- bad files: a clear message, nothing changed ----------------------------------------------

def _wide_file() -> bytes:
    return ("," .join(f"c{i}" for i in range(250)) + "\n" + ",".join("1" * 250) + "\n").encode()


def _formula_file() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(fx.MINISTRY_HEADER)
    ws.append(fx.PRIMARY_ROWS[0])
    ws.append(["112", "014602", "=CONCAT(\"市立\",\"新埔國小\")", "公立", "[01]新北市",
               "[220]新北市板橋區民生路3段25號", "", ""])
    for (cell,) in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


BAD_FILES = [
    ("empty", b"", "The file is empty."),
    ("only-bom", b"\xef\xbb\xbf\r\n", "The file is empty."),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary data"),
    ("broken-zip", b"PK\x03\x04garbage", "could not be read as an XLSX workbook"),
    ("old-xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel .xls"),
    ("header-only", "學年度,代碼,學校名稱,公/私立,縣市名稱,地址\n".encode(), "no data rows"),
    ("unknown-column", fx.csv_bytes([*fx.MINISTRY_HEADER, "校長"], [[*fx.PRIMARY_ROWS[0], "x"]]),
     "Unknown columns for a Ministry of Education directory: 校長."),
    ("missing-column", fx.csv_bytes(["代碼", "學校名稱", "縣市名稱"],
                                    [["014601", "市立板橋國小", "新北市"]]),
     "Missing required columns: 地址."),
    ("twice", fx.csv_bytes([*fx.MINISTRY_HEADER, "代碼"], [[*fx.PRIMARY_ROWS[0], "014602"]]),
     "The column 代碼 appears twice."),
    ("wide-xlsx", fx.xlsx_bytes([f"c{i}" for i in range(201)], [["1"] * 201]),
     "at most 200 are allowed"),
    ("not-tabular", b"Dear colleagues,\nplease find the list attached.\n",
     "Unknown columns"),
    ("too-wide", _wide_file(), "at most 200 are allowed"),
    ("huge-cell", fx.csv_bytes(fx.MINISTRY_HEADER,
                               [[*fx.PRIMARY_ROWS[0][:2], "x" * 20000, *fx.PRIMARY_ROWS[0][3:]]]),
     "a cell of 20000 characters"),
]


@pytest.mark.parametrize("name,data,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_is_refused_with_a_message(app, client, staff, name, data, message):
    before = state(app)
    resp = upload(client, data, f"{name}.csv")
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert state(app) == before
    assert not list((Path(app.instance_path) / "imports").glob("*.json"))


def test_duplicate_code_in_the_file_is_an_error(app, client, staff):
    rows = [fx.PRIMARY_ROWS[0], fx.PRIMARY_ROWS[1], fx.PRIMARY_ROWS[0]]
    token, html = preview(client, upload(client, fx.ministry_primary_big5(rows), "dup.csv"))
    assert count_in(html, "invalid") == 1
    assert "Duplicate of row 2 in this file." in html
    client.post("/imports/confirm", data={"token": token})
    assert schools(app) == {}


def test_xlsx_formula_without_a_saved_value_is_an_error_for_its_row(app, client, staff):
    token, html = preview(client, upload(client, _formula_file(), "formula.xlsx",
                                         level="primary"))
    assert count_in(html, "invalid") == 1 and count_in(html, "new") == 1
    assert "A formula without a saved value." in html
    client.post("/imports/confirm", data={"token": token})
    assert schools(app) == {}


def test_numeric_codes_in_xlsx_keep_their_leading_zeros(app, client, staff):
    rows = [[r[0], int(r[1]) if r[1].isdigit() else r[1], *r[2:]] for r in fx.PRIMARY_ROWS]
    data = fx.xlsx_bytes(fx.MINISTRY_HEADER, rows, code_as_text=False)
    import_file(client, data, "numbers.xlsx", level="primary")
    assert "014601" in schools(app)


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 3000, "BABEL_DEFAULT_LOCALE": "en"}])
def test_file_over_the_size_limit(app, client, staff):
    before = state(app)
    big = fx.ministry_primary_big5(fx.ministry_rows(80))
    resp = upload(client, big, "big.csv")
    assert resp.status_code == 413
    assert "larger than the limit" in resp.get_data(as_text=True)
    assert state(app) == before


# -- the steps are guarded --------------------------------------------------------------------

def test_preview_of_someone_elses_upload_is_not_found(app, client, login_as):
    login_as("staff")
    token, _html = preview(client, upload(client, fx.ministry_primary_big5(), "p.csv"))
    other = app.test_client()
    with app.app_context():
        user = factories.make_user(db.session, role="admin")
        db.session.commit()
        email = user.email
    other.post("/auth/login", data={"email": email, "password": factories.PASSWORD})
    assert other.get(f"/imports/preview/{token}").status_code == 404
    assert other.post("/imports/confirm", data={"token": token}).status_code == 404
    assert other.post("/imports/confirm", data={"token": "../../etc/passwd"}).status_code == 400
    assert schools(app) == {}


def test_officials_and_principals_cannot_import(app, client, login_as):
    login_as("official")
    assert upload(client, fx.ministry_primary_big5(), "p.csv").status_code == 403
    assert client.get("/imports/").status_code == 403
    assert schools(app) == {}


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_upload_and_confirm_need_the_csrf_token(app, client):
    with app.app_context():
        user = factories.make_user(db.session, role="staff")
        db.session.commit()
        email = user.email
    page = client.get("/auth/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page.get_data(as_text=True)).group(1)
    client.post("/auth/login", data={"email": email, "password": factories.PASSWORD,
                                     "csrf_token": token})
    resp = upload(client, fx.ministry_primary_big5(), "p.csv")
    assert resp.status_code == 400
    assert client.post("/imports/confirm", data={"token": "x" * 32}).status_code == 400
    assert schools(app) == {}


# -- the reader on its own ----------------------------------------------------------------------

def test_reader_encodings_and_delimiters():
    from pairing.imports.readers import read_table

    plain = fx.csv_bytes(fx.MINISTRY_HEADER, fx.PRIMARY_ROWS[:1], encoding="utf-8")
    table = read_table(plain)
    assert table.encoding == "UTF-8" and table.rows[0][1][2] == "市立板橋國小"
    big5 = read_table(fx.ministry_primary_big5(fx.PRIMARY_ROWS[:1]))
    assert big5.encoding == "Big5 (CP950)" and big5.rows == table.rows
    tabs = read_table("代碼\t學校名稱\n014601\t市立板橋國小\n".encode())
    assert tabs.headers == ["代碼", "學校名稱"] and tabs.rows == [(2, ["014601", "市立板橋國小"])]
    # Our exports' neutralising apostrophe is removed again; other apostrophes stay.
    quoted = read_table(b"name,note\n'=1+1,'quoted'\n")
    assert quoted.rows[0][1] == ["=1+1", "'quoted'"]

"""Local school pages: list (search, filters, sort, pagination), detail, create, edit
(staff; a principal's contact details), stale edits, delete, and who may do what."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from pairing.audit.models import AuditLog
from pairing.common.enums import ActivityType, Level
from pairing.schools import service
from pairing.schools.models import District, School

from . import factories


@pytest.fixture(autouse=True)
def english(client):
    """Assert on the English texts (the default locale is zh-TW)."""
    client.set_cookie("lang", "en")


@pytest.fixture
def world(session):
    """Five schools in two districts; expected list results are worked out by hand:

    code    name          district  levels           sector   pairings           open
    014601  淡水國小       淡水區     primary          public   active             yes
    014602  淡水國中       淡水區     junior           public   proposed only      yes
    01A603  私立淡江高中   淡水區     junior, senior   private  none               yes
    014604  板橋國小       板橋區     primary          public   active + ended     yes
    014605  板橋舊國小     板橋區     primary          public   ended              closed 2020
    """
    tamsui = factories.make_district(session, name_zh="淡水區", name_en="Tamsui District",
                                     postal_code="251")
    banqiao = factories.make_district(session, name_zh="板橋區", name_en="Banqiao District",
                                      postal_code="220")
    s1 = factories.make_school(session, code="014601", district=tamsui, name_zh="淡水國小",
                               name_en="Tamsui Elementary School")
    s2 = factories.make_school(session, code="014602", district=tamsui, name_zh="淡水國中",
                               name_en="Tamsui Junior High School", levels=("junior",))
    s3 = factories.make_school(session, code="01A603", district=tamsui, name_zh="私立淡江高中",
                               name_en="Tamkang Private High School", is_public=False,
                               levels=("junior", "senior"))
    s4 = factories.make_school(session, code="014604", district=banqiao, name_zh="板橋國小",
                               name_en="Banqiao Elementary School")
    s5 = factories.make_school(session, code="014605", district=banqiao, name_zh="板橋舊國小",
                               name_en="Old Banqiao School", closed_on=date(2020, 7, 31))
    city = factories.make_partner_city(session, name="Holmdel", region="New Jersey")
    holmdel = factories.make_partner_school(session, name="Holmdel Village School",
                                            partner_city=city, city="Holmdel")
    tokyo = factories.make_partner_school(session, name="Tokyo Minato School", country="JP",
                                          city="Tokyo", region="Tokyo")
    p1 = factories.make_pairing(session, school=s1, partner=holmdel,
                                signed_on=date(2023, 10, 5))
    factories.make_pairing(session, school=s2, partner=holmdel, status="proposed")
    factories.make_pairing(session, school=s4, partner=tokyo)
    factories.make_pairing(session, school=s4, partner=holmdel, status="ended",
                           signed_on=date(2019, 1, 1), ended_on=date(2021, 1, 1))
    factories.make_pairing(session, school=s5, partner=tokyo, status="ended",
                           signed_on=date(2018, 1, 1), ended_on=date(2020, 1, 1))
    factories.make_activity(session, pairing=p1, title="Spring video call",
                            type=ActivityType.VIRTUAL, start_on=date(2024, 3, 12),
                            local_students=25, local_teachers=2, partner_students=18,
                            partner_teachers=3)
    session.commit()
    return {"tamsui": tamsui.id, "banqiao": banqiao.id, "s1": s1.id, "s2": s2.id,
            "s3": s3.id, "s4": s4.id, "s5": s5.id, "holmdel": holmdel.id, "city": city.id}


def listed_codes(resp) -> list[str]:
    """School codes in the list's table, in order."""
    return re.findall(r"<td><code>([0-9A-Z]{6})</code></td>", resp.get_data(as_text=True))


def school_row(session, school_id):
    session.rollback()  # see what the requests committed
    return session.get(School, school_id)


def count_schools(session) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(School))


def valid_form(district, **overrides) -> dict:
    data = {"code": "000123", "name_zh": "新北市立測試國小", "name_en": "Test Elementary",
            "district_id": str(district), "levels": ["primary", "junior"], "is_public": "0",
            "address": "新北市淡水區中正路1號", "phone": "02-2621-0000",
            "website": "https://school.example.org", "principal_name": "王校長",
            "principal_email": "principal@example.org", "enrolment": "420", "closed_on": ""}
    data.update(overrides)
    return data


# --- list -------------------------------------------------------------------------------

def test_list_shows_every_school_with_paired_badge_and_levels(client, login_as, world):
    login_as("official")
    resp = client.get("/schools/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert listed_codes(resp) == ["014601", "014602", "014604", "014605", "01A603"]
    assert "5 schools found" in html
    # Paired = has an active pairing: 014601 and 014604; the rest are not yet paired.
    assert html.count("badge-paired") == 2
    assert html.count("badge-unpaired") == 3
    row = html[html.index("01A603"):]
    row = row[:row.index("</tr>")]
    assert "Junior high school" in row and "Senior high school" in row
    assert "Private" in row and "Not yet paired" in row


@pytest.mark.parametrize("query, expected", [
    ("q=淡水", ["014601", "014602"]),
    ("q=tamkang", ["01A603"]),
    ("q=01a6", ["01A603"]),
    ("q=0146", ["014601", "014602", "014604", "014605"]),
    ("level=junior", ["014602", "01A603"]),
    ("level=senior", ["01A603"]),
    ("level=primary", ["014601", "014604", "014605"]),
    ("sector=private", ["01A603"]),
    ("sector=public", ["014601", "014602", "014604", "014605"]),
    ("paired=yes", ["014601", "014604"]),
    ("paired=no", ["014602", "014605", "01A603"]),
    ("state=closed", ["014605"]),
    ("state=open", ["014601", "014602", "014604", "01A603"]),
    ("q=國小&paired=yes&level=primary", ["014601", "014604"]),
    ("level=nonsense&district=abc", ["014601", "014602", "014604", "014605", "01A603"]),
])
def test_list_search_and_filters(client, login_as, world, query, expected):
    login_as("staff")
    resp = client.get(f"/schools/?{query}")
    assert resp.status_code == 200
    assert listed_codes(resp) == expected


def test_list_filters_by_district(client, login_as, world):
    login_as("staff")
    resp = client.get(f"/schools/?district={world['banqiao']}")
    assert listed_codes(resp) == ["014604", "014605"]
    assert "2 schools found" in resp.get_data(as_text=True)


def test_list_filters_by_county_when_there_are_several(client, login_as, world, session):
    login_as("staff")
    html = client.get("/schools/").get_data(as_text=True)
    assert 'name="county"' not in html  # one county: no county filter
    taipei = factories.make_district(session, name_zh="東區", name_en="East", county="臺南市")
    factories.make_school(session, code="214001", district=taipei)
    session.commit()
    resp = client.get("/schools/?county=臺南市")
    assert listed_codes(resp) == ["214001"]
    html = resp.get_data(as_text=True)
    options = re.search(r'<select[^>]*name="district"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option[^>]*value="(\d+)"', options) == [str(taipei.id)]
    # Without a county, every district is offered with its county's name.
    html = client.get("/schools/").get_data(as_text=True)
    options = re.search(r'<select[^>]*name="district"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert "Tainan City East" in options
    assert 'name="county"' in html
    csv_text = client.get("/imports/export/schools?format=csv&county=臺南市").get_data(
        as_text=True)
    assert "214001" in csv_text and "014601" not in csv_text


@pytest.mark.parametrize("sort, expected", [
    ("code", ["014601", "014602", "014604", "014605", "01A603"]),
    ("-code", ["01A603", "014605", "014604", "014602", "014601"]),
    # By Chinese name: 板 U+677F < 淡 U+6DE1 < 私 U+79C1; 板橋國 < 板橋舊; 淡水國中 < 淡水國小.
    ("name", ["014604", "014605", "014602", "014601", "01A603"]),
    # By district name (板橋區 before 淡水區), then code.
    ("district", ["014604", "014605", "014601", "014602", "01A603"]),
    ("-district", ["01A603", "014602", "014601", "014605", "014604"]),
    ("bogus", ["014601", "014602", "014604", "014605", "01A603"]),
])
def test_list_sorting(client, login_as, world, sort, expected):
    login_as("staff")
    assert listed_codes(client.get(f"/schools/?sort={sort}")) == expected


def test_list_pagination_keeps_filters(app, client, login_as, world):
    app.config["PER_PAGE"] = 2
    login_as("staff")
    first = client.get("/schools/?level=primary")
    assert listed_codes(first) == ["014601", "014604"]
    html = first.get_data(as_text=True)
    assert "3 records, page 1 of 2" in html
    assert "level=primary" in html and "page=2" in html
    second = client.get("/schools/?level=primary&page=2")
    assert listed_codes(second) == ["014605"]
    assert listed_codes(client.get("/schools/?page=99")) == []  # past the end: empty page


def test_list_export_links_carry_filters(client, login_as, world):
    login_as("staff")
    html = client.get("/schools/?paired=no&level=junior&page=2").get_data(as_text=True)
    links = re.findall(r'href="(/imports/export/schools\?[^"]+)"', html)
    assert len(links) == 2
    for link in links:
        assert "paired=no" in link and "level=junior" in link and "page=" not in link
    assert any("format=csv" in link for link in links)
    assert any("format=xlsx" in link for link in links)


def test_empty_list_tells_staff_what_to_do(client, login_as):
    login_as("staff")
    html = client.get("/schools/").get_data(as_text=True)
    assert "There are no schools yet." in html
    assert 'href="/imports/"' in html and 'href="/schools/new"' in html


def test_empty_list_for_official_has_no_staff_links(client, login_as):
    login_as("official")
    html = client.get("/schools/").get_data(as_text=True)
    assert "There are no schools yet." in html
    assert 'href="/schools/new"' not in html and 'href="/imports/"' not in html


def test_filters_without_match_say_so(client, login_as, world):
    login_as("staff")
    html = client.get("/schools/?q=nothing-like-this").get_data(as_text=True)
    assert "No school matches these filters." in html
    assert "0 schools found" in html


def test_list_query_is_usable_without_a_request(app, world):
    """The export reuses school_list_query with the same keys: rows of (School, paired)."""
    with app.app_context():
        from pairing.extensions import db

        rows = db.session.execute(
            service.school_list_query({"district": str(world["tamsui"]), "sort": "-code"})
        ).all()
        assert [(s.code, paired) for s, paired in rows] == [
            ("01A603", False), ("014602", False), ("014601", True)]
        assert rows[0][0].district.name_zh == "淡水區"


def test_list_runs_a_fixed_number_of_queries(app, client, login_as, world):
    """No N+1: districts and 'paired' come with the rows, however many there are."""
    login_as("staff")
    from pairing.extensions import db

    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/schools/")
        few = len(statements)
        with app.app_context():
            district = db.session.get(District, world["tamsui"])
            for n in range(6):
                factories.make_school(db.session, code=f"02{n:04d}", district=district)
            db.session.commit()
        statements.clear()
        client.get("/schools/")
        assert len(statements) == few
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_staff_find_an_unpaired_school_in_tamsui(client, login_as, world):
    """The journey of issue 2: filter by district 淡水區 and 'not yet paired'."""
    login_as("staff")
    html = client.get("/schools/").get_data(as_text=True)
    # The district filter offers 淡水區 by name.
    assert re.search(rf'<option value="{world["tamsui"]}">Tamsui District</option>', html)
    resp = client.get(f"/schools/?district={world['tamsui']}&paired=no")
    assert listed_codes(resp) == ["014602", "01A603"]
    html = resp.get_data(as_text=True)
    assert "badge-paired" not in html and html.count("Not yet paired") >= 2
    detail = client.get(f"/schools/{world['s3']}")
    assert detail.status_code == 200
    page = detail.get_data(as_text=True)
    assert "No pairings recorded for this school." in page
    assert f"school_id={world['s3']}" in page  # the "Add pairing" button


# --- detail -----------------------------------------------------------------------------

def test_detail_shows_fields_pairings_and_activities(client, login_as, world, session):
    school = session.get(School, world["s1"])
    school.address = "新北市淡水區中山路 1 號"
    school.principal_email = "head@tamsui.example.org"
    school.enrolment = 512
    session.commit()
    login_as("staff")
    resp = client.get(f"/schools/{world['s1']}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in ("淡水國小", "Tamsui Elementary School", "014601", "Tamsui District",
                 "Primary school", "Public", "512", "新北市淡水區中山路 1 號",
                 "head@tamsui.example.org",
                 # its pairing, with country name, partner city, status label and date
                 "Holmdel Village School", "United States", "Holmdel", "Active (signed)",
                 "Oct 5, 2023",
                 # the pairing's activity, with type label and counts
                 "Spring video call", "Virtual exchange", "Mar 12, 2024",
                 "43 students, 5 teachers"):  # 25 + 18 students, 2 + 3 teachers
        assert text in html, text
    assert 'id="pane-history"' in html  # staff see the History tab
    assert "Edit" in html and f"/schools/{world['s1']}/delete" in html


def test_detail_of_closed_school_and_ended_pairings(client, login_as, world):
    login_as("official")
    html = client.get(f"/schools/{world['s5']}").get_data(as_text=True)
    assert "Closed" in html and "Jul 31, 2020" in html
    assert "Ended" in html and "Tokyo Minato School" in html and "Japan" in html


def test_history_tab_lists_changes_for_staff_only(client, login_as, world):
    login_as("staff")
    resp = client.post(f"/schools/{world['s2']}/edit",
                       data=valid_form(world["tamsui"], code="014602", name_zh="淡水國中",
                                       version="1"))
    assert resp.status_code == 302
    html = client.get(f"/schools/{world['s2']}").get_data(as_text=True)
    history = html[html.index('id="pane-history"'):]
    assert 'data-field="enrolment">Enrolment (students)</span>' in history
    assert "420" in history


def test_detail_for_official_is_read_only(client, login_as, world):
    login_as("official")
    html = client.get(f"/schools/{world['s1']}").get_data(as_text=True)
    assert "pane-history" not in html
    assert f"/schools/{world['s1']}/edit" not in html
    assert f"/schools/{world['s1']}/delete" not in html
    assert "/pairings/new" not in html


def test_detail_for_principal_offers_own_school_actions_only(app, client, login_as, world,
                                                             session):
    login_as("principal", school=session.get(School, world["s1"]))
    own = client.get(f"/schools/{world['s1']}").get_data(as_text=True)
    assert f"/schools/{world['s1']}/edit" in own and "Edit contact details" in own
    assert f"school_id={world['s1']}" in own and "Propose a pairing" in own
    assert f"/schools/{world['s1']}/delete" not in own and "pane-history" not in own
    other = client.get(f"/schools/{world['s2']}").get_data(as_text=True)
    assert f"/schools/{world['s2']}/edit" not in other and "/pairings/new" not in other


def test_unknown_school_is_404(client, login_as):
    login_as("staff")
    assert client.get("/schools/999999").status_code == 404
    assert client.get("/schools/999999/edit").status_code == 404


# --- create -----------------------------------------------------------------------------

def test_create_a_school(client, login_as, world, session):
    login_as("staff")
    assert client.get("/schools/new").status_code == 200
    resp = client.post("/schools/new", data=valid_form(world["tamsui"]))
    assert resp.status_code == 302
    session.rollback()
    school = session.scalar(sa.select(School).where(School.code == "000123"))
    assert resp.headers["Location"].endswith(f"/schools/{school.id}")
    assert school.name_zh == "新北市立測試國小" and school.district_id == world["tamsui"]
    assert school.levels == [Level.PRIMARY, Level.JUNIOR]
    assert school.is_public is False and school.enrolment == 420
    assert school.principal_email == "principal@example.org"
    assert school.closed_on is None and school.version == 1
    audit = session.scalar(sa.select(AuditLog).where(AuditLog.entity_type == "school",
                                                     AuditLog.entity_id == school.id))
    assert audit.action == "create"


def test_code_is_normalised_and_keeps_letters_and_zeros(client, login_as, world, session):
    login_as("staff")
    resp = client.post("/schools/new", data=valid_form(world["tamsui"], code=" 011c71 ",
                                                       name_en=""))
    assert resp.status_code == 302
    school = session.scalar(sa.select(School).where(School.code == "011C71"))
    assert school is not None and school.name_en is None


@pytest.mark.parametrize("overrides, message", [
    ({"code": "014601"}, "Another school already uses this code."),
    ({"code": "01460"}, "The school code must be exactly 6 letters or digits."),
    ({"code": "0146011"}, "The school code must be exactly 6 letters or digits."),
    ({"code": "01-601"}, "The school code must be exactly 6 letters or digits."),
    ({"levels": []}, "Choose at least one level."),
    ({"enrolment": "-1"}, "Enrolment cannot be negative."),
    ({"principal_email": "not-an-email"}, "Enter a valid e-mail address."),
    ({"website": "javascript:alert(1)"}, "Enter a full web address"),
    ({"name_zh": "  "}, "This field is required."),
    ({"district_id": ""}, "Choose a district."),
    ({"closed_on": "31/07/2020"}, "Not a valid date value."),
])
def test_create_refuses_bad_input(client, login_as, world, session, overrides, message):
    login_as("staff")
    before = count_schools(session)
    resp = client.post("/schools/new", data=valid_form(world["tamsui"], **overrides))
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert count_schools(session) == before


def test_database_constraint_is_the_last_line(client, login_as, world, session, monkeypatch):
    """If the form check misses a duplicate, the unique constraint refuses it cleanly."""
    monkeypatch.setattr(service, "code_taken", lambda *a, **k: False)
    login_as("staff")
    before = count_schools(session)
    resp = client.post("/schools/new", data=valid_form(world["tamsui"], code="014601"))
    assert resp.status_code == 422
    assert "Another school already uses this code." in resp.get_data(as_text=True)
    assert count_schools(session) == before


# --- edit -------------------------------------------------------------------------------

def test_staff_edit_a_school(client, login_as, world, session):
    login_as("staff")
    form = client.get(f"/schools/{world['s3']}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    resp = client.post(f"/schools/{world['s3']}/edit",
                       data=valid_form(world["banqiao"], code="01A603", name_zh="私立淡江高中",
                                       levels=["senior"], closed_on="2031-07-31",
                                       version="1"))
    assert resp.status_code == 302
    school = school_row(session, world["s3"])
    assert school.district_id == world["banqiao"] and school.levels == [Level.SENIOR]
    assert school.closed_on == date(2031, 7, 31) and school.is_open
    assert school.version == 2


def test_edit_refuses_duplicate_code(client, login_as, world, session):
    login_as("staff")
    resp = client.post(f"/schools/{world['s3']}/edit",
                       data=valid_form(world["tamsui"], code="014601", version="1"))
    assert resp.status_code == 422
    assert "Another school already uses this code." in resp.get_data(as_text=True)
    school = school_row(session, world["s3"])
    assert school.code == "01A603" and school.version == 1


def test_stale_edit_is_refused_and_shows_what_changed(client, login_as, world, session):
    login_as("staff")
    form = client.get(f"/schools/{world['s2']}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    # Meanwhile someone else renames the school.
    school = session.get(School, world["s2"])
    school.name_zh = "淡水區立淡水國中"
    session.commit()
    resp = client.post(f"/schools/{world['s2']}/edit",
                       data=valid_form(world["tamsui"], code="014602", name_zh="淡水國中(新)",
                                       version="1"))
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "someone else changed this record" in html
    table = html[html.index("Saved value"):]
    assert "Chinese name" in table and "淡水區立淡水國中" in table and "淡水國中(新)" in table
    # Choice fields are shown by label, not stored value.
    assert "Public" in table and "Private" in table
    # The form now carries the current version, so saving again is a deliberate overwrite.
    assert 'name="version" type="hidden" value="2"' in html
    school = school_row(session, world["s2"])
    assert school.name_zh == "淡水區立淡水國中" and school.enrolment is None
    assert school.version == 2


def test_race_after_the_check_is_refused_too(client, login_as, world, session, monkeypatch):
    """StaleDataError from the versioned UPDATE is handled like a stale form."""
    from pairing.extensions import db

    real = service.readable_conflicts
    calls = []

    def bump_then_pass(obj, form, fields):
        calls.append(1)
        if len(calls) == 1:  # another writer commits between our check and our UPDATE
            table = School.__table__
            db.session.execute(sa.update(table).where(table.c.id == obj.id)
                               .values(version=table.c.version + 1))
            return None
        return real(obj, form, fields)

    monkeypatch.setattr(service, "readable_conflicts", bump_then_pass)
    login_as("staff")
    resp = client.post(f"/schools/{world['s2']}/edit",
                       data=valid_form(world["tamsui"], code="014602", version="1"))
    assert resp.status_code == 409
    assert "someone else changed this record" in resp.get_data(as_text=True)
    assert len(calls) == 2  # checked, raced, rolled back, checked again
    school = school_row(session, world["s2"])
    assert school.enrolment is None and school.name_zh == "淡水國中"


def test_principal_edits_own_contact_details_only(client, login_as, world, session):
    login_as("principal", school=session.get(School, world["s1"]))
    form = client.get(f"/schools/{world['s1']}/edit")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert 'name="phone"' in html and 'name="code"' not in html and 'name="levels"' not in html
    resp = client.post(f"/schools/{world['s1']}/edit", data={
        "address": "新北市淡水區新址 9 號", "phone": "02-2620-1234",
        "website": "https://tamsui-es.example.org", "principal_name": "林校長",
        "principal_email": "lin@example.org", "version": "1",
        # Fields outside the contact form are ignored.
        "code": "999999", "name_zh": "改名", "enrolment": "1"})
    assert resp.status_code == 302
    school = school_row(session, world["s1"])
    assert school.phone == "02-2620-1234" and school.principal_name == "林校長"
    assert school.principal_email == "lin@example.org"
    assert school.code == "014601" and school.name_zh == "淡水國小" and school.enrolment is None


def test_principal_contact_form_validates(client, login_as, world, session):
    login_as("principal", school=session.get(School, world["s1"]))
    resp = client.post(f"/schools/{world['s1']}/edit",
                       data={"principal_email": "nope", "version": "1"})
    assert resp.status_code == 422
    assert "Enter a valid e-mail address." in resp.get_data(as_text=True)
    assert school_row(session, world["s1"]).principal_email is None


def test_principal_cannot_edit_another_school(client, login_as, world, session):
    login_as("principal", school=session.get(School, world["s1"]))
    assert client.get(f"/schools/{world['s2']}/edit").status_code == 403
    resp = client.post(f"/schools/{world['s2']}/edit",
                       data={"phone": "000", "version": "1"})
    assert resp.status_code == 403
    assert school_row(session, world["s2"]).phone is None
    assert client.get("/schools/new").status_code == 403
    assert client.post(f"/schools/{world['s3']}/delete").status_code == 403


def test_official_gets_403_on_every_write(client, login_as, world, session):
    login_as("official")
    before = count_schools(session)
    assert client.get("/schools/new").status_code == 403
    assert client.post("/schools/new", data=valid_form(world["tamsui"])).status_code == 403
    assert client.get(f"/schools/{world['s3']}/edit").status_code == 403
    assert client.post(f"/schools/{world['s3']}/edit",
                       data=valid_form(world["tamsui"], version="1")).status_code == 403
    assert client.post(f"/schools/{world['s3']}/delete").status_code == 403
    assert count_schools(session) == before
    assert school_row(session, world["s3"]).version == 1


def test_anonymous_is_sent_to_sign_in(client, world):
    resp = client.get("/schools/")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


# --- delete -----------------------------------------------------------------------------

def test_delete_a_school_without_pairings(client, login_as, world, session):
    login_as("staff")
    confirm = client.get(f"/schools/{world['s3']}/delete")
    assert confirm.status_code == 200
    assert "will be deleted permanently" in confirm.get_data(as_text=True)
    assert school_row(session, world["s3"]) is not None  # nothing happens on GET
    resp = client.post(f"/schools/{world['s3']}/delete")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/schools/")
    assert school_row(session, world["s3"]) is None
    assert count_schools(session) == 4


def test_delete_refused_when_school_has_pairings(client, login_as, world, session):
    login_as("staff")
    confirm = client.get(f"/schools/{world['s4']}/delete").get_data(as_text=True)
    assert "This school has 2 pairings, so it cannot be deleted" in confirm
    assert "set the date it closed instead" in confirm
    assert "Delete the school" not in confirm
    resp = client.post(f"/schools/{world['s4']}/delete")
    assert resp.status_code == 409
    assert "cannot be deleted" in resp.get_data(as_text=True)
    assert school_row(session, world["s4"]) is not None


def test_delete_refused_when_a_principal_account_belongs_to_it(client, login_as, world,
                                                               session):
    factories.make_user(session, role="principal", school=session.get(School, world["s3"]))
    session.commit()
    login_as("admin")
    resp = client.post(f"/schools/{world['s3']}/delete")
    assert resp.status_code == 409
    assert "1 user account belongs to this school" in resp.get_data(as_text=True)
    assert school_row(session, world["s3"]) is not None


def test_pairing_status_counts_only_active(app, world):
    """'Paired' is an active pairing: proposed (014602) and ended (014605) do not count."""
    with app.app_context():
        from pairing.extensions import db

        rows = db.session.execute(service.school_list_query({})).all()
        paired = {s.code: p for s, p in rows}
        assert paired == {"014601": True, "014602": False, "01A603": False,
                          "014604": True, "014605": False}

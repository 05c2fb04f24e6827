"""Partner school pages: list (search, filters, sort, pagination, paired counts), detail,
create, edit, stale edits, delete, and who may do what."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from pairing.common.enums import Level
from pairing.extensions import db
from pairing.partners import service
from pairing.partners.models import PartnerSchool
from pairing.schools.models import School

from . import factories


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def build_partner_world(session) -> dict:
    """Partner schools, cities and pairings with hand-computed counts:

    partner school           country city       partner city  levels          active pairings
    Holmdel Village School   US      Holmdel    Holmdel       primary         S1, S2 (+S3 ended)
    Holmdel High School      US      Holmdel    Holmdel       senior          —
    Cupertino Middle School  US      Cupertino  Cupertino     junior          S1
    Minato Junior High       JP      Tokyo      —             junior, senior  — (S3 proposed)
    Lycée Victor Hugo        FR      Paris      —             senior          —
    Partner city Aurora (US, Colorado) has no partner school.
    """
    district = factories.make_district(session, name_zh="淡水區", name_en="Tamsui District")
    s1 = factories.make_school(session, code="014601", district=district, name_zh="淡水國小")
    s2 = factories.make_school(session, code="014602", district=district, name_zh="淡水國中",
                               levels=("junior",))
    s3 = factories.make_school(session, code="014603", district=district, name_zh="淡江高中",
                               levels=("senior",))
    holmdel = factories.make_partner_city(session, name="Holmdel", region="New Jersey")
    cupertino = factories.make_partner_city(session, name="Cupertino", name_zh="庫比蒂諾",
                                            region="California", twinned_on=date(2021, 5, 1))
    aurora = factories.make_partner_city(session, name="Aurora", region="Colorado",
                                         signed_on=date(2023, 10, 6))
    village = factories.make_partner_school(session, name="Holmdel Village School",
                                            partner_city=holmdel, city="Holmdel",
                                            region="New Jersey",
                                            contact_email="office@hvs.example.org")
    high = factories.make_partner_school(session, name="Holmdel High School",
                                         partner_city=holmdel, city="Holmdel", levels=("senior",))
    middle = factories.make_partner_school(session, name="Cupertino Middle School",
                                           partner_city=cupertino, city="Cupertino",
                                           region="California", levels=("junior",))
    minato = factories.make_partner_school(session, name="Minato Junior High", country="JP",
                                           city="Tokyo", region="Tokyo",
                                           name_local="港区立中学校",
                                           levels=("junior", "senior"))
    lycee = factories.make_partner_school(session, name="Lycée Victor Hugo", country="FR",
                                          city="Paris", region="Île-de-France",
                                          levels=("senior",))
    factories.make_pairing(session, school=s1, partner=village, signed_on=date(2023, 11, 1))
    factories.make_pairing(session, school=s2, partner=village)
    factories.make_pairing(session, school=s3, partner=village, status="ended",
                           signed_on=date(2019, 1, 1), ended_on=date(2021, 1, 1))
    factories.make_pairing(session, school=s1, partner=middle)
    factories.make_pairing(session, school=s3, partner=minato, status="proposed")
    session.commit()
    return {"s1": s1.id, "s2": s2.id, "s3": s3.id, "holmdel": holmdel.id,
            "cupertino": cupertino.id, "aurora": aurora.id, "village": village.id,
            "high": high.id, "middle": middle.id, "minato": minato.id, "lycee": lycee.id}


@pytest.fixture
def world(session):
    return build_partner_world(session)


def listed(resp) -> list[tuple[str, int]]:
    """(name, paired local schools) for each row of the partner list, in order."""
    html = resp.get_data(as_text=True)
    body = html[html.index("<tbody>"):html.index("</tbody>")] if "<tbody>" in html else ""
    rows = body.split("</tr>")[:-1]
    out = []
    for row in rows:
        name = re.search(r'<a href="/partners/\d+">([^<]+)</a>', row).group(1)
        count = re.findall(r'<td class="text-end">(\d+)</td>', row)[-1]
        out.append((name, int(count)))
    return out


def names(resp) -> list[str]:
    return [n for n, _count in listed(resp)]


def partner_row(session, partner_id):
    session.rollback()
    return session.get(PartnerSchool, partner_id)


def count_partners(session) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(PartnerSchool))


def valid_form(**overrides) -> dict:
    data = {"name": "Holmdel Middle School", "name_local": "", "country": "US",
            "region": "New Jersey", "city": "Holmdel", "levels": ["junior"],
            "website": "https://hms.example.org", "contact_name": "Ms. Smith",
            "contact_email": "smith@hms.example.org", "partner_city_id": ""}
    data.update(overrides)
    return data


ALL = ["Cupertino Middle School", "Holmdel High School", "Holmdel Village School",
       "Lycée Victor Hugo", "Minato Junior High"]


# --- list -------------------------------------------------------------------------------

def test_list_shows_partner_schools_with_paired_counts(client, login_as, world):
    login_as("official")
    resp = client.get("/partners/")
    assert resp.status_code == 200
    # Active pairings only, counted per local school: the ended and the proposed do not count.
    assert listed(resp) == [("Cupertino Middle School", 1), ("Holmdel High School", 0),
                            ("Holmdel Village School", 2), ("Lycée Victor Hugo", 0),
                            ("Minato Junior High", 0)]
    html = resp.get_data(as_text=True)
    assert "5 partner schools found" in html
    assert "Japan" in html and "France" in html and "United States" in html
    assert "港区立中学校" in html
    assert 'href="/partners/new"' not in html  # officials do not add


@pytest.mark.parametrize("query, expected", [
    ("q=tokyo", ["Minato Junior High"]),
    ("q=港区", ["Minato Junior High"]),
    ("q=HOLMDEL", ["Holmdel High School", "Holmdel Village School"]),
    ("country=JP", ["Minato Junior High"]),
    ("country=us", ["Cupertino Middle School", "Holmdel High School",
                    "Holmdel Village School"]),
    ("partner_city=none", ["Lycée Victor Hugo", "Minato Junior High"]),
    ("level=junior", ["Cupertino Middle School", "Minato Junior High"]),
    ("level=senior", ["Holmdel High School", "Lycée Victor Hugo", "Minato Junior High"]),
    ("level=senior&country=US", ["Holmdel High School"]),
    ("level=bogus&partner_city=x", ALL),
])
def test_list_search_and_filters(client, login_as, world, query, expected):
    login_as("staff")
    assert names(client.get(f"/partners/?{query}")) == expected


def test_list_filters_by_partner_city(client, login_as, world):
    login_as("staff")
    resp = client.get(f"/partners/?partner_city={world['holmdel']}")
    assert names(resp) == ["Holmdel High School", "Holmdel Village School"]
    html = client.get("/partners/").get_data(as_text=True)
    assert f'<option value="{world["holmdel"]}">Holmdel</option>' in html
    assert '<option value="JP">Japan</option>' in html  # countries in use only
    assert '<option value="DE">' not in html


@pytest.mark.parametrize("sort, expected", [
    ("name", ALL),
    ("-name", list(reversed(ALL))),
    ("country", ["Lycée Victor Hugo", "Minato Junior High", "Cupertino Middle School",
                 "Holmdel High School", "Holmdel Village School"]),
    ("city", ["Cupertino Middle School", "Holmdel High School", "Holmdel Village School",
              "Lycée Victor Hugo", "Minato Junior High"]),
    # Most paired first; ties by name, also descending.
    ("-paired", ["Holmdel Village School", "Cupertino Middle School", "Minato Junior High",
                 "Lycée Victor Hugo", "Holmdel High School"]),
])
def test_list_sorting(client, login_as, world, sort, expected):
    login_as("staff")
    assert names(client.get(f"/partners/?sort={sort}")) == expected


def test_list_pagination(app, client, login_as, world):
    app.config["PER_PAGE"] = 2
    login_as("staff")
    first = client.get("/partners/?country=US")
    assert names(first) == ["Cupertino Middle School", "Holmdel High School"]
    assert "3 records, page 1 of 2" in first.get_data(as_text=True)
    assert names(client.get("/partners/?country=US&page=2")) == ["Holmdel Village School"]


def test_list_export_links(client, login_as, world):
    login_as("official")
    html = client.get("/partners/?country=JP").get_data(as_text=True)
    links = re.findall(r'href="(/imports/export/partners\?[^"]+)"', html)
    assert len(links) == 2 and all("country=JP" in link for link in links)


def test_empty_states(client, login_as):
    login_as("staff")
    html = client.get("/partners/").get_data(as_text=True)
    assert "There are no partner schools yet." in html and 'href="/partners/new"' in html
    html = client.get("/partners/?q=zzz").get_data(as_text=True)
    assert "No partner school matches these filters." in html


def test_partner_list_query_without_a_request(app, world):
    with app.app_context():
        rows = db.session.execute(service.partner_list_query({"country": "US",
                                                              "sort": "-paired"})).all()
        assert [(p.name, n) for p, n in rows] == [("Holmdel Village School", 2),
                                                  ("Cupertino Middle School", 1),
                                                  ("Holmdel High School", 0)]
        assert rows[0][0].partner_city.name == "Holmdel"


# --- detail -----------------------------------------------------------------------------

def test_detail_shows_fields_and_paired_local_schools(client, login_as, world, session):
    login_as("staff")
    # Local schools show in the reader's language (English name, falling back to Chinese).
    english = {s.code: s.name_en or s.name_zh for s in session.scalars(
        sa.select(School).where(School.code.in_(["014601", "014602", "014603"])))}
    resp = client.get(f"/partners/{world['village']}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in ("Holmdel Village School", "United States", "New Jersey",
                 "office@hvs.example.org", "Primary school",
                 f'href="/partners/cities/{world["holmdel"]}"',
                 english["014601"], "014601", english["014602"], "014602", english["014603"],
                 "Tamsui District",
                 "Active (signed)", "Ended", "Nov 1, 2023"):
        assert text in html, text
    assert 'id="pane-history"' in html
    assert f"/partners/{world['village']}/edit" in html


def test_detail_for_official_has_no_history_or_buttons(client, login_as, world):
    login_as("official")
    html = client.get(f"/partners/{world['minato']}").get_data(as_text=True)
    assert "港区立中学校" in html and "Japan" in html and "Proposed" in html
    assert "pane-history" not in html and f"/partners/{world['minato']}/edit" not in html


def test_unknown_partner_is_404(client, login_as):
    login_as("staff")
    assert client.get("/partners/424242").status_code == 404


# --- create / edit ----------------------------------------------------------------------

def test_create_a_partner_school(client, login_as, world, session):
    login_as("staff")
    assert client.get("/partners/new").status_code == 200
    resp = client.post("/partners/new", data=valid_form(partner_city_id=str(world["holmdel"])))
    assert resp.status_code == 302
    session.rollback()
    partner = session.scalar(sa.select(PartnerSchool)
                             .where(PartnerSchool.name == "Holmdel Middle School"))
    assert resp.headers["Location"].endswith(f"/partners/{partner.id}")
    assert partner.country == "US" and partner.city == "Holmdel"
    assert partner.partner_city_id == world["holmdel"] and partner.levels == [Level.JUNIOR]
    assert partner.contact_email == "smith@hms.example.org" and partner.name_local is None


def test_new_partner_form_preselects_partner_city(client, login_as, world):
    login_as("staff")
    html = client.get(f"/partners/new?partner_city={world['cupertino']}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{world["cupertino"]}">', html)


def test_same_name_in_another_city_is_allowed(client, login_as, world, session):
    login_as("staff")
    resp = client.post("/partners/new", data=valid_form(name="Holmdel Village School",
                                                        city="Middletown"))
    assert resp.status_code == 302
    assert count_partners(session) == 6


@pytest.mark.parametrize("overrides, message", [
    ({"name": "Holmdel Village School"},
     "A partner school with this name already exists in this city and country."),
    ({"country": "XX"}, "Choose a country from the list"),
    ({"country": "USA"}, "Choose a country from the list"),
    ({"country": ""}, "Choose a country."),
    ({"levels": []}, "Choose at least one level."),
    ({"contact_email": "smith-at-example"}, "Enter a valid e-mail address."),
    ({"name": ""}, "This field is required."),
    ({"website": "ftp://hms.example.org"}, "Enter a full web address"),
    ({"partner_city_id": "987654"}, "Not a valid choice"),
])
def test_create_refuses_bad_input(client, login_as, world, session, overrides, message):
    login_as("staff")
    resp = client.post("/partners/new", data=valid_form(**overrides))
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert count_partners(session) == 5


def test_lowercase_country_code_is_accepted(client, login_as, world, session):
    login_as("staff")
    resp = client.post("/partners/new", data=valid_form(country="jp", city="Osaka"))
    assert resp.status_code == 302
    session.rollback()
    partner = session.scalar(sa.select(PartnerSchool).where(PartnerSchool.city == "Osaka"))
    assert partner.country == "JP"


def test_edit_a_partner_school(client, login_as, world, session):
    login_as("admin")
    form = client.get(f"/partners/{world['lycee']}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form and "Lycée Victor Hugo" in form
    resp = client.post(f"/partners/{world['lycee']}/edit", data=valid_form(
        name="Lycée Victor Hugo", country="FR", city="Paris", region="Île-de-France",
        levels=["junior", "senior"], version="1"))
    assert resp.status_code == 302
    partner = partner_row(session, world["lycee"])
    assert partner.levels == [Level.JUNIOR, Level.SENIOR] and partner.version == 2
    assert partner.contact_name == "Ms. Smith"


def test_edit_to_a_duplicate_is_refused(client, login_as, world, session):
    login_as("staff")
    resp = client.post(f"/partners/{world['high']}/edit",
                       data=valid_form(name="Holmdel Village School", version="1"))
    assert resp.status_code == 422
    assert "already exists in this city and country" in resp.get_data(as_text=True)
    assert partner_row(session, world["high"]).name == "Holmdel High School"


def test_stale_edit_is_refused(client, login_as, world, session):
    login_as("staff")
    form = client.get(f"/partners/{world['minato']}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    partner = session.get(PartnerSchool, world["minato"])
    partner.contact_name = "Tanaka-sensei"
    partner.partner_city_id = world["cupertino"]
    session.commit()
    resp = client.post(f"/partners/{world['minato']}/edit", data=valid_form(
        name="Minato Junior High", country="JP", city="Tokyo", contact_name="Sato-sensei",
        levels=["junior", "senior"], version="1"))
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    table = html[html.index("Saved value"):]
    assert "Tanaka-sensei" in table and "Sato-sensei" in table
    assert "Cupertino (United States)" in table  # the partner city by name, not by id
    partner = partner_row(session, world["minato"])
    assert partner.contact_name == "Tanaka-sensei" and partner.version == 2
    assert partner.region == "Tokyo"


# --- delete -----------------------------------------------------------------------------

def test_delete_a_partner_school_without_pairings(client, login_as, world, session):
    login_as("staff")
    assert "will be deleted permanently" in client.get(
        f"/partners/{world['lycee']}/delete").get_data(as_text=True)
    assert partner_row(session, world["lycee"]) is not None
    resp = client.post(f"/partners/{world['lycee']}/delete")
    assert resp.status_code == 302
    assert partner_row(session, world["lycee"]) is None and count_partners(session) == 4


def test_delete_refused_when_partner_has_pairings(client, login_as, world, session):
    login_as("staff")
    page = client.get(f"/partners/{world['village']}/delete").get_data(as_text=True)
    assert "is in 3 pairings, so it cannot be deleted" in page
    resp = client.post(f"/partners/{world['village']}/delete")
    assert resp.status_code == 409
    assert partner_row(session, world["village"]) is not None


# --- roles ------------------------------------------------------------------------------

def test_official_and_principal_get_403_on_writes(client, login_as, world, session):
    for role, school in (("official", None), ("principal", session.get(School, world["s1"]))):
        client.post("/auth/logout")
        login_as(role, school=school)
        assert client.get("/partners/new").status_code == 403
        assert client.post("/partners/new", data=valid_form()).status_code == 403
        assert client.get(f"/partners/{world['lycee']}/edit").status_code == 403
        assert client.post(f"/partners/{world['lycee']}/edit",
                           data=valid_form(version="1")).status_code == 403
        assert client.post(f"/partners/{world['lycee']}/delete").status_code == 403
        assert client.get(f"/partners/{world['lycee']}").status_code == 200
    assert count_partners(session) == 5
    assert partner_row(session, world["lycee"]).version == 1

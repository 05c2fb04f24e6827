"""Partner city pages: list with counts aggregated in SQL, detail, create, edit, stale edits,
delete (refused while partner schools refer to the city), and who may do what."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from pairing.extensions import db
from pairing.partners import service
from pairing.partners.models import PartnerCity, PartnerSchool

from .test_partners import build_partner_world


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def world(session):
    return build_partner_world(session)


def listed(resp) -> list[tuple[str, int, int]]:
    """(name, partner schools, active pairings) for each row of the city list, in order."""
    html = resp.get_data(as_text=True)
    if "<tbody>" not in html:
        return []
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    out = []
    for row in body.split("</tr>")[:-1]:
        name = re.search(r'<a href="/partners/cities/\d+">([^<]+)</a>', row).group(1)
        schools, active = re.findall(r'<td class="text-end">(\d+)</td>', row)
        out.append((name, int(schools), int(active)))
    return out


def city_row(session, city_id):
    session.rollback()
    return session.get(PartnerCity, city_id)


def count_cities(session) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(PartnerCity))


def valid_form(**overrides) -> dict:
    data = {"name": "Johns Creek", "name_zh": "約翰斯克里克", "country": "US",
            "region": "Georgia", "signed_on": "2023-10-05", "twinned_on": "",
            "notes": "MOU signed in New Taipei."}
    data.update(overrides)
    return data


def test_list_counts_partner_schools_and_active_pairings(client, login_as, world):
    login_as("official")
    resp = client.get("/partners/cities")
    assert resp.status_code == 200
    # Holmdel: 2 partner schools; active pairings S1 and S2 with Holmdel Village (the ended
    # one does not count). Cupertino: 1 school, 1 active pairing. Aurora: none.
    assert listed(resp) == [("Aurora", 0, 0), ("Cupertino", 1, 1), ("Holmdel", 2, 2)]
    html = resp.get_data(as_text=True)
    assert "3 partner cities found" in html
    assert "United States" in html and "New Jersey" in html and "Oct 6, 2023" in html
    assert "Twin city" in html and "庫比蒂諾" in html
    assert 'href="/partners/cities/new"' not in html


@pytest.mark.parametrize("query, expected", [
    ("q=cuper", ["Cupertino"]),
    ("q=庫比", ["Cupertino"]),
    ("q=jersey", ["Holmdel"]),
    ("country=US", ["Aurora", "Cupertino", "Holmdel"]),
    ("country=JP", []),
    ("sort=-name", ["Holmdel", "Cupertino", "Aurora"]),
    ("sort=-schools", ["Holmdel", "Cupertino", "Aurora"]),
    # Signed 2023-10-05 (Cupertino, Holmdel) before 2023-10-06 (Aurora).
    ("sort=signed", ["Cupertino", "Holmdel", "Aurora"]),
])
def test_list_search_filter_sort(client, login_as, world, query, expected):
    login_as("staff")
    assert [row[0] for row in listed(client.get(f"/partners/cities?{query}"))] == expected


def test_list_pagination(app, client, login_as, world):
    app.config["PER_PAGE"] = 2
    login_as("staff")
    first = client.get("/partners/cities")
    assert [r[0] for r in listed(first)] == ["Aurora", "Cupertino"]
    assert "3 records, page 1 of 2" in first.get_data(as_text=True)
    assert [r[0] for r in listed(client.get("/partners/cities?page=2"))] == ["Holmdel"]


def test_empty_states(client, login_as):
    login_as("staff")
    html = client.get("/partners/cities").get_data(as_text=True)
    assert "There are no partner cities yet." in html
    assert 'href="/partners/cities/new"' in html
    html = client.get("/partners/cities?q=zzz").get_data(as_text=True)
    assert "No partner city matches these filters." in html


def test_city_list_query_counts_in_one_statement(app, world):
    with app.app_context():
        rows = db.session.execute(service.city_list_query({"sort": "-schools"})).all()
        assert [(c.name, n, a) for c, n, a in rows] == [("Holmdel", 2, 2), ("Cupertino", 1, 1),
                                                        ("Aurora", 0, 0)]


def test_city_detail(client, login_as, world):
    login_as("staff")
    resp = client.get(f"/partners/cities/{world['holmdel']}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in ("Holmdel", "United States", "New Jersey", "Oct 5, 2023",
                 "Holmdel Village School", "Holmdel High School",
                 f'href="/partners/new?partner_city={world["holmdel"]}"', 'id="pane-history"'):
        assert text in html, text
    counts = re.findall(r'<td class="text-end">(\d+)</td>', html)
    assert counts == ["0", "2"]  # High School 0, Village School 2 (sorted by name)


def test_city_detail_for_principal_is_read_only(client, login_as, world, session):
    from pairing.schools.models import School

    login_as("principal", school=session.get(School, world["s1"]))
    html = client.get(f"/partners/cities/{world['cupertino']}").get_data(as_text=True)
    assert "Cupertino Middle School" in html and "May 1, 2021" in html
    assert "pane-history" not in html
    assert f"/partners/cities/{world['cupertino']}/edit" not in html


def test_create_a_city(client, login_as, world, session):
    login_as("staff")
    assert client.get("/partners/cities/new").status_code == 200
    resp = client.post("/partners/cities/new", data=valid_form())
    assert resp.status_code == 302
    session.rollback()
    city = session.scalar(sa.select(PartnerCity).where(PartnerCity.name == "Johns Creek"))
    assert resp.headers["Location"].endswith(f"/partners/cities/{city.id}")
    assert city.country == "US" and city.region == "Georgia"
    assert city.signed_on == date(2023, 10, 5) and city.twinned_on is None
    assert city.name_zh == "約翰斯克里克" and city.notes == "MOU signed in New Taipei."


@pytest.mark.parametrize("overrides, message", [
    ({"name": "Holmdel", "region": "New Jersey"},
     "This partner city already exists (same name, country and region)."),
    ({"country": "ZZ"}, "Choose a country from the list"),
    ({"country": ""}, "Choose a country."),
    ({"name": " "}, "This field is required."),
    ({"signed_on": "2023-13-40"}, "Not a valid date value."),
])
def test_create_refuses_bad_input(client, login_as, world, session, overrides, message):
    login_as("staff")
    resp = client.post("/partners/cities/new", data=valid_form(**overrides))
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert count_cities(session) == 3


def test_edit_a_city(client, login_as, world, session):
    login_as("staff")
    form = client.get(f"/partners/cities/{world['aurora']}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    resp = client.post(f"/partners/cities/{world['aurora']}/edit", data=valid_form(
        name="Aurora", name_zh="奧羅拉", region="Colorado", signed_on="2023-10-05",
        version="1"))
    assert resp.status_code == 302
    city = city_row(session, world["aurora"])
    assert city.name_zh == "奧羅拉" and city.signed_on == date(2023, 10, 5)
    assert city.version == 2


def test_stale_city_edit_is_refused(client, login_as, world, session):
    login_as("staff")
    city = session.get(PartnerCity, world["aurora"])
    city.notes = "Renewed in 2025."
    session.commit()
    resp = client.post(f"/partners/cities/{world['aurora']}/edit", data=valid_form(
        name="Aurora", region="Colorado", notes="Mine.", version="1"))
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    table = html[html.index("Saved value"):]
    assert "Renewed in 2025." in table and "Mine." in table
    city = city_row(session, world["aurora"])
    assert city.notes == "Renewed in 2025." and city.name_zh is None and city.version == 2


def test_delete_a_city_without_partner_schools(client, login_as, world, session):
    login_as("admin")
    assert "will be deleted permanently" in client.get(
        f"/partners/cities/{world['aurora']}/delete").get_data(as_text=True)
    resp = client.post(f"/partners/cities/{world['aurora']}/delete")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/partners/cities")
    assert city_row(session, world["aurora"]) is None and count_cities(session) == 2


def test_delete_refused_while_partner_schools_refer_to_it(client, login_as, world, session):
    login_as("staff")
    page = client.get(f"/partners/cities/{world['holmdel']}/delete").get_data(as_text=True)
    assert "2 partner schools sit under this city agreement" in page
    resp = client.post(f"/partners/cities/{world['holmdel']}/delete")
    assert resp.status_code == 409
    assert city_row(session, world["holmdel"]) is not None
    n = session.scalar(sa.select(sa.func.count()).select_from(PartnerSchool)
                       .where(PartnerSchool.partner_city_id == world["holmdel"]))
    assert n == 2


def test_official_gets_403_on_writes(client, login_as, world, session):
    login_as("official")
    assert client.get("/partners/cities/new").status_code == 403
    assert client.post("/partners/cities/new", data=valid_form()).status_code == 403
    assert client.post(f"/partners/cities/{world['aurora']}/edit",
                       data=valid_form(version="1")).status_code == 403
    assert client.post(f"/partners/cities/{world['aurora']}/delete").status_code == 403
    assert count_cities(session) == 3
    assert city_row(session, world["aurora"]).version == 1

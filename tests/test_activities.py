"""Activity pages: the global list, record/edit/delete from the pairing page, roles, and the
issue's journey from an unpaired school in 淡水區 to a recorded virtual exchange."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa

from pairing.common.enums import ActivityMode, ActivityType, PairingStatus
from pairing.extensions import db
from pairing.pairings.models import Activity, Pairing
from pairing.schools.models import School

from . import factories


@contextmanager
def dbs(app):
    with app.app_context():
        yield db.session


def activity_rows(app) -> list[tuple]:
    with dbs(app) as s:
        return [(a.id, a.pairing_id, a.title, a.local_students, a.version)
                for a in s.scalars(sa.select(Activity).order_by(Activity.id))]


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def world(app):
    with dbs(app) as s:
        tamsui = factories.make_district(s, name_zh="淡水區", name_en="Tamsui District")
        banqiao = factories.make_district(s, name_zh="板橋區", name_en="Banqiao District")
        a = factories.make_school(s, code="014501", district=tamsui, name_zh="淡水甲國小",
                                  name_en=None)
        b = factories.make_school(s, code="014502", district=banqiao, name_zh="板橋乙國小",
                                  name_en=None)
        us = factories.make_partner_school(s, name="Holmdel Elementary")
        jp = factories.make_partner_school(s, name="Osaka Gakuen", country="JP", city="Osaka")
        pa = factories.make_pairing(s, school=a, partner=us)
        pb = factories.make_pairing(s, school=b, partner=jp)
        a1 = factories.make_activity(s, pairing=pa, title="Spring video call",
                                     start_on=date(2024, 3, 1), local_students=12)
        a2 = factories.make_activity(s, pairing=pb, title="Visit to Osaka",
                                     type=ActivityType.OUTBOUND, mode=ActivityMode.IN_PERSON,
                                     start_on=date(2024, 10, 1), end_on=date(2024, 10, 8),
                                     local_students=20, local_teachers=3)
        a3 = factories.make_activity(s, pairing=pa, title="Joint science fair",
                                     type=ActivityType.PROJECT, mode=ActivityMode.HYBRID,
                                     start_on=date(2025, 1, 15))
        s.commit()
        return {"school_a": a.id, "school_b": b.id, "pairing_a": pa.id, "pairing_b": pb.id,
                "a1": a1.id, "a2": a2.id, "a3": a3.id, "tamsui": tamsui.id}


def activity_data(**kw) -> dict:
    data = {"title": "Online class", "type": "virtual_exchange", "mode": "virtual",
            "start_on": "2024-11-05", "end_on": "", "local_students": "25",
            "local_teachers": "2", "partner_students": "18", "partner_teachers": "1",
            "description": "Students presented their towns.", "evidence_url": ""}
    data.update({k: str(v) for k, v in kw.items()})
    return data


# ------------------------------------------------------------------ list


def test_activity_list_newest_first_with_count(client, login_as, world):
    login_as("official")
    resp = client.get("/pairings/activities")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="activity-count">3<' in html
    assert html.index("Joint science fair") < html.index("Visit to Osaka") < html.index(
        "Spring video call")
    assert "/imports/export/activities?format=csv" in html


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "osaka"}, ["Visit to Osaka"]),
    ({"q": "014501"}, ["Spring video call", "Joint science fair"]),
    ({"type": "joint_project"}, ["Joint science fair"]),
    ({"mode": "in_person"}, ["Visit to Osaka"]),
    ({"date_from": "2024-01-01", "date_to": "2024-06-30"}, ["Spring video call"]),
    ({"country": "JP"}, ["Visit to Osaka"]),
])
def test_activity_list_filters(client, login_as, world, query, expected):
    login_as("staff")
    html = client.get("/pairings/activities", query_string=query).get_data(as_text=True)
    for title in ("Spring video call", "Visit to Osaka", "Joint science fair"):
        assert (title in html) == (title in expected), title
    assert f'id="activity-count">{len(expected)}<' in html


def test_activity_list_district_filter_pagination_and_empty(app, client, login_as, world):
    login_as("staff")
    html = client.get(f"/pairings/activities?district={world['tamsui']}").get_data(
        as_text=True)
    assert "Visit to Osaka" not in html and 'id="activity-count">2<' in html
    app.config["PER_PAGE"] = 2
    page2 = client.get("/pairings/activities?page=2").get_data(as_text=True)
    assert "Spring video call" in page2 and "Visit to Osaka" not in page2
    assert "3 records, page 2 of 2" in page2
    empty = client.get("/pairings/activities?q=zzz").get_data(as_text=True)
    assert "No activity matches these filters." in empty


# ------------------------------------------------------------------ create / edit / delete


def test_record_activity_from_pairing_page(app, client, login_as, world):
    login_as("staff")
    resp = client.get(f"/pairings/{world['pairing_a']}/activities/new")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'value="{date.today().isoformat()}"' in html  # start date defaults to today
    assert 'min="0" name="local_students" required type="number" value="0"' in html
    resp = client.post(f"/pairings/{world['pairing_a']}/activities/new", data=activity_data(
        evidence_url="https://example.org/photos", end_on="2024-11-06"))
    assert resp.status_code == 302
    with dbs(app) as s:
        a = s.scalars(sa.select(Activity).where(Activity.title == "Online class")).one()
        assert (a.pairing_id, a.type, a.mode, a.start_on, a.end_on) == (
            world["pairing_a"], ActivityType.VIRTUAL, ActivityMode.VIRTUAL, date(2024, 11, 5),
            date(2024, 11, 6))
        assert (a.local_students, a.local_teachers, a.partner_students,
                a.partner_teachers) == (25, 2, 18, 1)
        assert a.evidence_url == "https://example.org/photos"
    html = client.get(f"/pairings/{world['pairing_a']}").get_data(as_text=True)
    assert "Online class" in html and "Local: 25 students, 2 teachers" in html


@pytest.mark.parametrize(("changes", "message"), [
    ({"local_students": "-1"}, "Enter a whole number of 0 or more."),
    ({"partner_teachers": "-3"}, "Enter a whole number of 0 or more."),
    ({"end_on": "2024-11-01"}, "The end date cannot be before the start date."),
    ({"title": "  "}, "Enter a title."),
    ({"evidence_url": "photos on the shared drive"}, "Enter a full web address"),
    ({"start_on": ""}, "Enter the start date."),
    ({"local_students": "many"}, "Not a valid integer value."),
])
def test_bad_activity_input_saves_nothing(app, client, login_as, world, changes, message):
    login_as("staff")
    before = activity_rows(app)
    resp = client.post(f"/pairings/{world['pairing_a']}/activities/new",
                       data=activity_data(**changes))
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert activity_rows(app) == before


def test_edit_activity(app, client, login_as, world):
    login_as("staff")
    resp = client.get(f"/pairings/activities/{world['a1']}/edit")
    assert resp.status_code == 200 and "Spring video call" in resp.get_data(as_text=True)
    resp = client.post(f"/pairings/activities/{world['a1']}/edit", data=activity_data(
        title="Spring video call (2 sessions)", start_on="2024-03-01", version="1"))
    assert resp.status_code == 302
    with dbs(app) as s:
        a = s.get(Activity, world["a1"])
        assert (a.title, a.local_students, a.version) == ("Spring video call (2 sessions)", 25, 2)


def test_stale_activity_edit_is_refused(app, client, login_as, world):
    login_as("staff")
    with dbs(app) as s:
        s.get(Activity, world["a1"]).local_students = 30
        s.commit()
    before = activity_rows(app)
    resp = client.post(f"/pairings/activities/{world['a1']}/edit", data=activity_data(
        title="Spring video call", start_on="2024-03-01", local_students="14", version="1"))
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "Someone else saved this record" in html
    row = html.split("Local students</th>")[1][:60]
    assert "30" in row and "14" in row
    assert activity_rows(app) == before


def test_delete_activity_asks_first(app, client, login_as, world):
    login_as("staff")
    resp = client.get(f"/pairings/activities/{world['a3']}/delete")
    assert resp.status_code == 200 and "Joint science fair" in resp.get_data(as_text=True)
    assert len(activity_rows(app)) == 3
    resp = client.post(f"/pairings/activities/{world['a3']}/delete", data={"version": "0"})
    assert resp.status_code == 409 and len(activity_rows(app)) == 3
    resp = client.post(f"/pairings/activities/{world['a3']}/delete", data={"version": "1"})
    assert resp.status_code == 302
    assert [r[0] for r in activity_rows(app)] == [world["a1"], world["a2"]]


# ------------------------------------------------------------------ roles


def test_principal_records_on_own_pairing_only(app, client, login_as, world):
    with dbs(app) as s:
        school_a = s.get(School, world["school_a"])
    login_as("principal", school=school_a)
    pa, pb = world["pairing_a"], world["pairing_b"]
    assert client.get(f"/pairings/{pa}/activities/new").status_code == 200
    # A pairing_id smuggled into the form is ignored: the URL's pairing is used.
    resp = client.post(f"/pairings/{pa}/activities/new",
                       data=activity_data(title="Principal's class", pairing_id=pb))
    assert resp.status_code == 302
    with dbs(app) as s:
        assert s.scalars(sa.select(Activity.pairing_id)
                         .where(Activity.title == "Principal's class")).one() == pa
    before = activity_rows(app)
    # Pairing B by URL: 403 for new, edit and delete, GET and POST.
    assert client.get(f"/pairings/{pb}/activities/new").status_code == 403
    assert client.post(f"/pairings/{pb}/activities/new",
                       data=activity_data()).status_code == 403
    assert client.get(f"/pairings/activities/{world['a2']}/edit").status_code == 403
    assert client.post(f"/pairings/activities/{world['a2']}/edit",
                       data=activity_data(version="1")).status_code == 403
    assert client.get(f"/pairings/activities/{world['a2']}/delete").status_code == 403
    assert client.post(f"/pairings/activities/{world['a2']}/delete",
                       data={"version": "1"}).status_code == 403
    assert activity_rows(app) == before
    # Their own activities: edit and delete.
    resp = client.post(f"/pairings/activities/{world['a1']}/edit",
                       data=activity_data(title="Renamed", version="1"))
    assert resp.status_code == 302
    resp = client.post(f"/pairings/activities/{world['a3']}/delete", data={"version": "1"})
    assert resp.status_code == 302
    titles = [r[2] for r in activity_rows(app)]
    assert "Renamed" in titles and "Joint science fair" not in titles
    # The pairing page offers them the buttons for their school only.
    assert f"/pairings/{pa}/activities/new" in client.get(f"/pairings/{pa}").get_data(
        as_text=True)
    assert "/activities/new" not in client.get(f"/pairings/{pb}").get_data(as_text=True)


# ------------------------------------------------------------------ the journey


def test_journey_pair_an_unpaired_tamsui_school_and_record_a_virtual_exchange(
        app, client, login_as):
    """Staff find an unpaired school in 淡水區, pair it with a new partner school in Holmdel,
    record a virtual exchange with 25 students, and see it on the school's page."""
    with dbs(app) as s:
        tamsui = factories.make_district(s, name_zh="淡水區", name_en="Tamsui District")
        paired = factories.make_school(s, code="014701", district=tamsui, name_zh="淡水已配國小",
                                       name_en=None)
        unpaired = factories.make_school(s, code="014702", district=tamsui,
                                         name_zh="淡水未配國小", name_en=None)
        factories.make_pairing(s, school=paired)
        city = factories.make_partner_city(s, name="Holmdel", region="New Jersey")
        holmdel = factories.make_partner_school(s, name="Holmdel Village School",
                                                city="Holmdel", region="NJ", partner_city=city)
        s.commit()
        unpaired_id, holmdel_id, tamsui_id = unpaired.id, holmdel.id, tamsui.id
    login_as("staff")

    # The unpaired school has no pairing in the Tamsui list; the other one has.
    html = client.get(f"/pairings/?district={tamsui_id}").get_data(as_text=True)
    assert "淡水已配國小" in html and "淡水未配國小" not in html

    resp = client.get(f"/pairings/new?school_id={unpaired_id}")
    assert "淡水未配國小" in resp.get_data(as_text=True)
    assert "Holmdel Village School (Holmdel, United States)" in resp.get_data(as_text=True)
    resp = client.post("/pairings/new", data={
        "school_code": "014702", "partner_school_id": str(holmdel_id), "status": "active",
        "signed_on": "2024-09-10", "effective_on": "2024-09-10", "start_on": "2024-09-10",
        "focus_areas": "English, culture", "coordinator": "", "notes": "", "end_on": "",
        "ended_on": ""})
    assert resp.status_code == 302
    pairing_url = resp.headers["Location"]
    with dbs(app) as s:
        pairing = s.scalars(sa.select(Pairing).where(Pairing.school_id == unpaired_id)).one()
        assert pairing.status == PairingStatus.ACTIVE
        pairing_id = pairing.id

    # A second open pairing of the same two schools is refused.
    resp = client.post("/pairings/new", data={
        "school_code": "014702", "partner_school_id": str(holmdel_id), "status": "proposed",
        "effective_on": "2024-09-11"})
    assert resp.status_code == 422
    assert "already have a pairing that has not ended" in resp.get_data(as_text=True)

    page = client.get(pairing_url).get_data(as_text=True)
    assert f"/pairings/{pairing_id}/activities/new" in page
    resp = client.post(f"/pairings/{pairing_id}/activities/new", data=activity_data(
        title="First virtual exchange with Holmdel", start_on="2024-10-15",
        local_students="25", local_teachers="2", partner_students="22", partner_teachers="1"))
    assert resp.status_code == 302
    with dbs(app) as s:
        activity = s.scalars(sa.select(Activity).where(Activity.pairing_id == pairing_id)).one()
        assert (activity.type, activity.local_students) == (ActivityType.VIRTUAL, 25)

    pairing_page = client.get(pairing_url).get_data(as_text=True)
    assert "First virtual exchange with Holmdel" in pairing_page
    assert "Local: 25 students" in pairing_page
    school_page = client.get(f"/schools/{unpaired_id}")
    assert school_page.status_code == 200
    school_html = school_page.get_data(as_text=True)
    assert "First virtual exchange with Holmdel" in school_html
    assert "Holmdel Village School" in school_html


def test_activity_list_query_count_does_not_grow_with_rows(app, client, login_as, world):
    login_as("staff")
    statements = []

    def counter(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        client.get("/pairings/activities?mode=hybrid")  # one row
        one = len(statements)
        statements.clear()
        client.get("/pairings/activities")  # three rows, two pairings
        three = len(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    assert three == one

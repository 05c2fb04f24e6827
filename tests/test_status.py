"""A school's status panel: paired or not, engaged or dormant, pairings and what to do next."""

from __future__ import annotations

from datetime import date

import pytest
from flask import render_template

from pairing.common.enums import PairingStatus
from pairing.dashboard.status import school_status

from . import factories as f

ON = date(2025, 1, 1)


@pytest.fixture
def app_config():
    return {"DORMANCY_MONTHS": 12, "BABEL_DEFAULT_LOCALE": "en"}


def test_unpaired_school_is_told_to_propose_a_pairing(session):
    school = f.make_school(session)
    session.commit()
    st = school_status(session, school.id, on=ON)
    assert (st["paired"], st["engaged"], st["dormant"]) == (False, False, False)
    assert st["pairings"] == []
    assert st["todo"] == ["No pairing yet: propose one with a partner school."]


def test_dormant_pairing_names_the_partner_and_the_months(session):
    school = f.make_school(session)
    hhs = f.make_partner_school(session, name="Holmdel High School", city="Holmdel")
    p = f.make_pairing(session, school=school, partner=hhs, signed_on=date(2022, 9, 1),
                       end_on=date(2025, 2, 15))
    f.make_activity(session, pairing=p, start_on=date(2023, 11, 1), local_students=12,
                    partner_teachers=2)
    session.commit()
    st = school_status(session, school.id, on=ON)
    assert (st["paired"], st["engaged"], st["dormant"]) == (True, False, True)
    item = st["pairings"][0]
    assert item["partner"] == "Holmdel High School" and item["city"] == "Holmdel"
    assert item["country"] == "US" and item["status"] == PairingStatus.ACTIVE
    assert item["last_activity_on"] == date(2023, 11, 1)
    assert item["activities"][0]["students"] == 12 and item["activities"][0]["teachers"] == 2
    assert "No activity recorded for 14 months with Holmdel High School: plan the next " \
           "exchange." in st["todo"]
    assert any("ends on" in t and "Holmdel High School" in t for t in st["todo"])


def test_live_pairing_is_engaged_and_history_is_dated(session):
    school = f.make_school(session)
    live = f.make_pairing(session, school=school, signed_on=date(2024, 1, 1))
    f.make_activity(session, pairing=live, start_on=date(2024, 12, 1))
    ended = f.make_pairing(session, school=school, status="ended", signed_on=date(2022, 1, 1),
                           ended_on=date(2024, 6, 1))
    session.commit()
    st = school_status(session, school.id, on=ON)
    assert (st["paired"], st["engaged"], st["dormant"]) == (True, True, False)
    assert [i["id"] for i in st["pairings"]] == [live.id, ended.id]  # active first
    assert st["todo"] == []
    # On a date before the first pairing was signed: the ended one was active then.
    past = school_status(session, school.id, on=date(2023, 1, 1))
    assert past["paired"] is True
    assert [i["active"] for i in past["pairings"]] == [True, False]


def test_proposed_pairing_asks_for_follow_up(session):
    school = f.make_school(session)
    f.make_pairing(session, school=school, status="proposed",
                   partner=f.make_partner_school(session, name="Osaka Minami", country="JP"))
    session.commit()
    st = school_status(session, school.id, on=ON)
    assert st["paired"] is False
    assert st["todo"] == ["The pairing with Osaka Minami is proposed: follow up to sign it."]


def test_panel_renders_status_pairings_and_todo(app, session):
    school = f.make_school(session)
    hhs = f.make_partner_school(session, name="Holmdel High School", city="Holmdel")
    p = f.make_pairing(session, school=school, partner=hhs, signed_on=date(2022, 9, 1))
    f.make_activity(session, pairing=p, start_on=date(2023, 11, 1), title="Pen pals")
    session.commit()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        html = render_template("dashboard/_school_status.html",
                               status=school_status(session, school.id, on=ON))
    assert "Paired" in html and "Dormant" in html
    assert "Holmdel High School" in html and "United States" in html
    assert "No activity recorded for 14 months with Holmdel High School" in html
    assert "Pen pals" in html
    assert f'href="/pairings/{p.id}"' in html

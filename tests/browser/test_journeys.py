"""The main data-entry journey of issue 2, as a staff member does it in the browser."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from pairing.accounts.models import User
from pairing.extensions import db

from .. import factories
from .conftest import sign_in

pytestmark = pytest.mark.browser

STAFF_EMAIL = "journey-staff@example.org"


@pytest.fixture
def staff_user(live_server):
    with live_server.app.app_context():
        if not db.session.scalar(select(User).filter_by(email=STAFF_EMAIL)):
            factories.make_user(db.session, role="staff", email=STAFF_EMAIL, name="Sam Staff")
            db.session.commit()
        db.session.remove()
    return STAFF_EMAIL


def test_staff_pair_an_unpaired_tamsui_school_and_record_an_exchange(
        page_factory, live_server, staff_user):
    base = live_server.url
    page, watch = page_factory()
    page.set_default_timeout(10_000)
    sign_in(page, base, staff_user)

    # Find an unpaired school in 淡水區 with the list's filters.
    page.goto(f"{base}/schools/")
    page.select_option("select[name=district]", label="Tamsui District")
    page.select_option("select[name=paired]", value="no")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("load")
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    assert "014603" in rows.first.inner_text()

    # Create a partner school in Holmdel under the Holmdel MOU.
    page.goto(f"{base}/partners/new")
    page.fill("input[name=name]", "Holmdel Middle School")
    page.select_option("select[name=country]", value="US")
    page.fill("input[name=region]", "New Jersey")
    page.fill("input[name=city]", "Holmdel")
    page.check("input[name=levels][value=junior]")
    city = page.locator("select[name=partner_city_id] option", has_text="Holmdel").first
    page.select_option("select[name=partner_city_id]", value=city.get_attribute("value"))
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="Holmdel Middle School").is_visible()

    # Pair them from the school's page.
    page.goto(f"{base}/schools/{live_server.ids['t3']}")
    page.get_by_role("link", name="Add pairing").click()
    option = page.locator("select[name=partner_school_id] option",
                          has_text="Holmdel Middle School").first
    page.select_option("select[name=partner_school_id]", value=option.get_attribute("value"))
    page.select_option("select[name=status]", value="active")
    page.fill("input[name=signed_on]", date.today().isoformat())
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    assert "/pairings/" in page.url

    # Record a virtual exchange with 25 students from the pairing page.
    page.get_by_role("link", name="Record an activity").first.click()
    page.fill("input[name=title]", "Virtual exchange: our towns")
    page.select_option("select[name=type]", value="virtual_exchange")
    page.select_option("select[name=mode]", value="virtual")
    page.fill("input[name=local_students]", "25")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")

    # The school's page shows the pairing and the exchange.
    page.goto(f"{base}/schools/{live_server.ids['t3']}")
    text = page.locator("main").inner_text()
    assert "Holmdel Middle School" in text
    assert "Virtual exchange: our towns" in text
    assert "25 students" in text
    assert page.locator("[data-status=paired]").inner_text() == "Paired"
    assert watch.errors == [] and watch.outside == []

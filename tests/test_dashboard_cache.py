"""The dashboard cache: a committed write to anything behind a figure invalidates it at once;
a rolled-back write does not move the data version."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from pairing.audit import tracking
from pairing.common import dataversion
from pairing.dashboard import cache
from pairing.pairings.models import Activity, Pairing
from pairing.schools.models import School

from . import factories as f


@pytest.fixture
def app_config():
    return {"DASHBOARD_CACHE": True}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def metric(client, key: str) -> str:
    html = client.get("/dashboard/").get_data(as_text=True)
    found = re.search(rf'data-metric="{key}">([^<]*)<', html)
    assert found, f"no metric {key}"
    return found.group(1).strip()


@pytest.fixture
def world(session):
    district = f.make_district(session, name_zh="淡水區")
    s1 = f.make_school(session, district=district)
    s2 = f.make_school(session, district=district)
    pairing = f.make_pairing(session, school=s1, signed_on=date.today() - timedelta(days=400))
    session.commit()
    return {"district": district.id, "s1": s1.id, "s2": s2.id, "pairing": pairing.id}


def test_repeat_views_are_served_from_the_cache(client, login_as, world, app):
    login_as("official")
    assert metric(client, "paired") == "1 / 2"
    assert len(cache._cache) >= 1
    # A bulk change that bypasses the ORM (and so does not move the version) is not seen:
    # proof that the second view came from the cache.
    with app.app_context():
        from pairing.extensions import db

        db.session.execute(sa.update(School).where(School.id == world["s2"])
                           .values(closed_on=date(2000, 1, 1)))
        db.session.commit()
        assert metric(client, "paired") == "1 / 2"
        # Bulk loaders record an 'import' audit row, which moves the version.
        tracking.record(db.session, "import", label="bulk")
        db.session.commit()
    assert metric(client, "paired") == "1 / 1"


def test_each_kind_of_write_invalidates(client, login_as, world, session):
    login_as("staff")
    assert metric(client, "paired") == "1 / 2"

    # A new school (through the ORM, as the forms and imports do).
    f.make_school(session, district=session.get(School, world["s1"]).district)
    session.commit()
    assert metric(client, "paired") == "1 / 3"

    # A new pairing for the second school.
    f.make_pairing(session, school=session.get(School, world["s2"]),
                   signed_on=date.today() - timedelta(days=10))
    session.commit()
    assert metric(client, "paired") == "2 / 3"

    # An activity makes the first pairing live: engaged moves.
    assert metric(client, "activities") == "0"
    activity = f.make_activity(session, pairing=session.get(Pairing, world["pairing"]),
                               start_on=date.today() - timedelta(days=5))
    session.commit()
    assert metric(client, "activities") == "1"

    # Deleting it moves the figures back.
    session.delete(session.get(Activity, activity.id))
    session.commit()
    assert metric(client, "activities") == "0"

    # Closing a school through the ORM.
    school = session.get(School, world["s2"])
    school.closed_on = date(2001, 1, 1)
    session.commit()
    assert metric(client, "paired") == "1 / 2"


def test_version_moves_on_commit_only(session, world):
    before = dataversion.current(session)
    school = session.get(School, world["s1"])
    school.name_en = "Changed and rolled back"
    session.flush()
    session.rollback()
    assert dataversion.current(session) == before
    school = session.get(School, world["s1"])
    school.name_en = "Changed and kept"
    session.commit()
    assert dataversion.current(session) == before + 1


def test_signing_in_does_not_invalidate(client, session, world):
    before = dataversion.current(session)
    user = f.make_user(session, role="official")
    session.commit()
    after_user = dataversion.current(session)
    assert after_user == before  # users are behind no figure
    resp = client.post("/auth/login", data={"email": user.email, "password": f.PASSWORD})
    assert resp.status_code == 302
    assert dataversion.current(session) == after_user


def test_cache_can_be_switched_off(client, login_as, world, app):
    app.config["DASHBOARD_CACHE"] = False
    login_as("official")
    assert metric(client, "paired") == "1 / 2"
    assert len(cache._cache) == 0

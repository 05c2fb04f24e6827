"""The pairing service: rules, the dated status history, and the list queries."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pairing.common.enums import ActivityMode, ActivityType, PairingStatus
from pairing.pairings import service
from pairing.pairings.models import Pairing, PairingEvent

from . import factories


def _data(school, partner, status="proposed", **kw) -> dict:
    data = {"school_id": school.id, "partner_school_id": partner.id, "status": status,
            "signed_on": None, "start_on": None, "end_on": None, "ended_on": None,
            "focus_areas": None, "coordinator": None, "notes": None,
            "effective_on": date(2024, 1, 1)}
    data.update(kw)
    return data


def _events(pairing) -> list[tuple[str, date]]:
    return [(e.status.value, e.effective_on) for e in pairing.events]


def _update(session, pairing, actor=None, **changes):
    data = {name: getattr(pairing, name) for name in service.PAIRING_FIELDS}
    data["effective_on"] = date.today()
    data.update(changes)
    result = service.update_pairing(session, pairing, data, actor)
    session.commit()
    session.refresh(result)
    return result


@pytest.fixture
def two(session):
    school = factories.make_school(session)
    partner = factories.make_partner_school(session)
    session.commit()
    return school, partner


def _create(session, school, partner, **kw):
    pairing = service.create_pairing(session, _data(school, partner, **kw))
    session.commit()
    session.refresh(pairing)
    return pairing


# ------------------------------------------------------------------ status history


def test_create_active_records_activation_on_signing_date(session, two):
    pairing = _create(session, *two, status="active", signed_on=date(2023, 1, 10))
    assert pairing.status == PairingStatus.ACTIVE
    assert _events(pairing) == [("active", date(2023, 1, 10))]


def test_create_proposal_uses_effective_date(session, two):
    pairing = _create(session, *two, status="negotiating", effective_on=date(2024, 2, 3))
    assert _events(pairing) == [("negotiating", date(2024, 2, 3))]


def test_create_ended_pairing_records_activation_then_end(session, two):
    pairing = _create(session, *two, status="ended", signed_on=date(2021, 9, 1),
                      ended_on=date(2023, 7, 31))
    assert _events(pairing) == [("active", date(2021, 9, 1)), ("ended", date(2023, 7, 31))]


def test_active_then_ended_last_year(session, two):
    """The issue's example: active 2023-01 to 2024-06, then ended."""
    pairing = _create(session, *two, status="active", signed_on=date(2023, 1, 10))
    pairing = _update(session, pairing, status="ended", ended_on=date(2024, 6, 30))
    assert _events(pairing) == [("active", date(2023, 1, 10)), ("ended", date(2024, 6, 30))]
    assert session.scalar(sa.select(sa.func.count(PairingEvent.id))) == 2


def test_full_lifecycle(session, two):
    pairing = _create(session, *two, status="proposed", effective_on=date(2022, 3, 1))
    pairing = _update(session, pairing, status="negotiating", effective_on=date(2022, 5, 1))
    pairing = _update(session, pairing, status="active", signed_on=date(2022, 9, 1),
                      effective_on=date(2022, 12, 24))  # first activation: the signing date
    pairing = _update(session, pairing, status="suspended", effective_on=date(2023, 8, 1))
    pairing = _update(session, pairing, status="active", effective_on=date(2024, 2, 1))
    pairing = _update(session, pairing, status="ended", ended_on=date(2025, 1, 31))
    assert _events(pairing) == [
        ("proposed", date(2022, 3, 1)),
        ("negotiating", date(2022, 5, 1)),
        ("active", date(2022, 9, 1)),
        ("suspended", date(2023, 8, 1)),
        ("active", date(2024, 2, 1)),
        ("ended", date(2025, 1, 31)),
    ]


def test_backdated_signing_pulls_proposal_back(session, two):
    """Entered as a proposal in 2024, then marked active with a 2023 signing date."""
    pairing = _create(session, *two, status="proposed", effective_on=date(2024, 3, 1))
    pairing = _update(session, pairing, status="active", signed_on=date(2023, 1, 15))
    assert _events(pairing) == [("proposed", date(2023, 1, 15)), ("active", date(2023, 1, 15))]
    assert pairing.events[-1].status == PairingStatus.ACTIVE


def test_suspension_without_activation_on_record_adds_it(session, two):
    pairing = _create(session, *two, status="negotiating", effective_on=date(2022, 1, 1))
    pairing = _update(session, pairing, status="suspended", signed_on=date(2022, 6, 1),
                      effective_on=date(2023, 6, 1))
    assert _events(pairing) == [("negotiating", date(2022, 1, 1)), ("active", date(2022, 6, 1)),
                                ("suspended", date(2023, 6, 1))]


def test_editing_signed_on_moves_the_activation(session, two):
    pairing = _create(session, *two, status="active", signed_on=date(2023, 1, 10))
    pairing = _update(session, pairing, signed_on=date(2023, 2, 20))
    assert _events(pairing) == [("active", date(2023, 2, 20))]


def test_editing_ended_on_moves_the_end(session, two):
    pairing = _create(session, *two, status="ended", signed_on=date(2021, 9, 1),
                      ended_on=date(2023, 7, 31))
    pairing = _update(session, pairing, ended_on=date(2023, 12, 31))
    assert _events(pairing) == [("active", date(2021, 9, 1)), ("ended", date(2023, 12, 31))]


def test_unchanged_status_adds_no_event(session, two):
    pairing = _create(session, *two, status="active", signed_on=date(2023, 1, 10))
    pairing = _update(session, pairing, notes="New notes", effective_on=date(2024, 5, 5))
    assert _events(pairing) == [("active", date(2023, 1, 10))]
    assert pairing.notes == "New notes"


def test_status_change_before_last_event_is_refused(session, two):
    pairing = _create(session, *two, status="active", signed_on=date(2023, 5, 1))
    with pytest.raises(service.PairingRuleError) as exc:
        _update(session, pairing, status="suspended", effective_on=date(2023, 1, 1))
    assert "effective_on" in exc.value.errors
    session.rollback()
    session.refresh(pairing)
    assert pairing.status == PairingStatus.ACTIVE
    assert _events(pairing) == [("active", date(2023, 5, 1))]


def test_signing_date_after_later_change_is_refused(session, two):
    pairing = _create(session, *two, status="active", signed_on=date(2023, 1, 1))
    pairing = _update(session, pairing, status="suspended", effective_on=date(2023, 6, 1))
    with pytest.raises(service.PairingRuleError) as exc:
        _update(session, pairing, signed_on=date(2023, 9, 1))
    assert "signed_on" in exc.value.errors
    session.rollback()
    session.refresh(pairing)
    assert pairing.signed_on == date(2023, 1, 1)
    assert _events(pairing) == [("active", date(2023, 1, 1)), ("suspended", date(2023, 6, 1))]


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"status": "active"}, "signed_on", "date it was signed"),
    ({"status": "ended", "signed_on": date(2023, 1, 1)}, "ended_on", "date it ended"),
    ({"status": "proposed", "ended_on": date(2024, 1, 1)}, "ended_on", "Only an ended pairing"),
    ({"start_on": date(2024, 5, 1), "end_on": date(2024, 4, 30)}, "end_on", "before the start"),
    ({"status": "ended", "signed_on": date(2024, 1, 2), "ended_on": date(2024, 1, 1)},
     "ended_on", "cannot end before it was signed"),
])
def test_rules_refuse_and_save_nothing(session, two, changes, field, text):
    with pytest.raises(service.PairingRuleError) as exc:
        service.create_pairing(session, _data(*two, **changes))
    assert field in exc.value.errors
    assert text in " ".join(exc.value.errors[field])
    session.rollback()
    assert session.scalar(sa.select(sa.func.count(Pairing.id))) == 0
    assert session.scalar(sa.select(sa.func.count(PairingEvent.id))) == 0


def test_second_open_pairing_of_same_schools_is_refused(session, two):
    first = _create(session, *two, status="active", signed_on=date(2023, 1, 1))
    with pytest.raises(service.PairingRuleError) as exc:
        service.create_pairing(session, _data(*two, status="proposed"))
    assert "already have a pairing that has not ended" in exc.value.errors["partner_school_id"][0]
    session.rollback()
    assert session.scalars(sa.select(Pairing.id)).all() == [first.id]


def test_new_pairing_allowed_once_the_old_one_ended(session, two):
    first = _create(session, *two, status="active", signed_on=date(2020, 1, 1))
    _update(session, first, status="ended", ended_on=date(2022, 1, 1))
    second = _create(session, *two, status="proposed")
    assert second.id != first.id
    assert session.scalar(sa.select(sa.func.count(Pairing.id))) == 2


def test_database_index_enforces_one_open_pairing(session, two):
    school, partner = two
    session.add(Pairing(school_id=school.id, partner_school_id=partner.id,
                        status=PairingStatus.PROPOSED))
    session.commit()
    session.add(Pairing(school_id=school.id, partner_school_id=partner.id,
                        status=PairingStatus.NEGOTIATING))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert session.scalar(sa.select(sa.func.count(Pairing.id))) == 1


def test_principal_may_only_propose_for_own_school(session, two):
    school, partner = two
    other = factories.make_school(session)
    principal = factories.make_user(session, role="principal", school=school)
    session.commit()
    with pytest.raises(service.NotAllowed):
        service.create_pairing(session, _data(school, partner, status="active",
                                              signed_on=date(2024, 1, 1)), principal)
    with pytest.raises(service.NotAllowed):
        service.create_pairing(session, _data(other, partner, status="proposed"), principal)
    session.rollback()
    pairing = service.create_pairing(session, _data(school, partner, status="negotiating"),
                                     principal)
    session.commit()
    assert pairing.status == PairingStatus.NEGOTIATING
    with pytest.raises(service.NotAllowed):
        _update(session, pairing, principal, status="active", signed_on=date(2024, 1, 1))
    session.rollback()
    staff = factories.make_user(session, role="staff")
    session.commit()
    pairing = _update(session, pairing, staff, status="active", signed_on=date(2024, 2, 1))
    assert pairing.status == PairingStatus.ACTIVE


def test_delete_refused_while_activities_exist(session):
    pairing = factories.make_pairing(session)
    activity = factories.make_activity(session, pairing=pairing)
    session.commit()
    assert service.delete_pairing(session, pairing) is False
    session.rollback()
    service.delete_activity(session, activity)
    assert service.delete_pairing(session, pairing) is True
    session.commit()
    assert session.scalar(sa.select(sa.func.count(Pairing.id))) == 0
    assert session.scalar(sa.select(sa.func.count(PairingEvent.id))) == 0


# ------------------------------------------------------------------ list queries


def test_pairing_list_query_filters(app, session):
    tamsui = factories.make_district(session, name_zh="淡水區", name_en="Tamsui District")
    banqiao = factories.make_district(session, name_zh="板橋區", name_en="Banqiao District")
    city = factories.make_partner_city(session, name="Holmdel")
    s1 = factories.make_school(session, code="014601", district=tamsui, name_zh="淡水一國小")
    s2 = factories.make_school(session, code="014602", district=banqiao, name_zh="板橋二國中",
                               levels=("junior",))
    us = factories.make_partner_school(session, name="Holmdel Elementary", partner_city=city)
    jp = factories.make_partner_school(session, name="Osaka Gakuen", country="JP", city="Osaka")
    p1 = factories.make_pairing(session, school=s1, partner=us, signed_on=date(2023, 3, 1))
    p2 = factories.make_pairing(session, school=s2, partner=jp, status="proposed")
    p3 = factories.make_pairing(session, school=s1, partner=jp, signed_on=date(2024, 8, 1))
    session.commit()

    def ids(**params):
        with app.test_request_context():
            return [p.id for p in session.scalars(service.pairing_list_query(params))]

    assert ids() == [p1.id, p3.id, p2.id]  # by school code, then id
    assert ids(q="淡水一") == [p1.id, p3.id]
    assert ids(q="osaka") == [p3.id, p2.id]
    assert ids(status="proposed") == [p2.id]
    assert ids(country="jp") == [p3.id, p2.id]
    assert ids(partner_city=str(city.id)) == [p1.id]
    assert ids(district=str(banqiao.id)) == [p2.id]
    assert ids(level="junior") == [p2.id]
    assert ids(signed_from="2023-01-01", signed_to="2023-12-31") == [p1.id]
    assert ids(signed_from="2024-01-01") == [p3.id]
    assert ids(sort="-signed", status="active") == [p3.id, p1.id]
    assert ids(status="bogus", district="x", signed_from="not a date") == [p1.id, p3.id, p2.id]


def test_activity_list_query_filters(app, session):
    tamsui = factories.make_district(session, name_zh="淡水區", name_en="Tamsui District")
    s1 = factories.make_school(session, code="014611", district=tamsui)
    s2 = factories.make_school(session, code="014612")
    jp = factories.make_partner_school(session, country="JP", city="Osaka")
    p1 = factories.make_pairing(session, school=s1)
    p2 = factories.make_pairing(session, school=s2, partner=jp)
    a1 = factories.make_activity(session, pairing=p1, title="Video call", start_on=date(2024, 3, 1))
    a2 = factories.make_activity(session, pairing=p2, title="Visit to Osaka",
                                 type=ActivityType.OUTBOUND, mode=ActivityMode.IN_PERSON,
                                 start_on=date(2024, 10, 1), end_on=date(2024, 10, 8))
    a3 = factories.make_activity(session, pairing=p1, title="Joint science fair",
                                 type=ActivityType.PROJECT, mode=ActivityMode.HYBRID,
                                 start_on=date(2025, 1, 15))
    session.commit()

    def ids(**params):
        with app.test_request_context():
            return [a.id for a in session.scalars(service.activity_list_query(params))]

    assert ids() == [a3.id, a2.id, a1.id]  # newest first
    assert ids(q="video") == [a1.id]
    assert ids(q="014612") == [a2.id]
    assert ids(type="outbound_visit") == [a2.id]
    assert ids(mode="hybrid") == [a3.id]
    assert ids(date_from="2024-10-05", date_to="2024-12-31") == [a2.id]  # overlaps the range
    assert ids(district=str(tamsui.id)) == [a3.id, a1.id]
    assert ids(country="JP") == [a2.id]
    assert ids(sort="title") == [a3.id, a1.id, a2.id]

"""Progress metrics on a small fixture whose every number is computed by hand below.

Settings: baseline 2024-01-01, target 100% on 2026-01-01, dormancy 12 months; 'today' is
2025-01-01, so the monthly points run 2024-01-01 .. 2025-01-01.

Schools (district A = 淡水區, B = 板橋區) and their pairings (active intervals):
  s1 A primary public     p1 US/Holmdel city  [2023-06-01, ...)   activity 2024-06-15
  s2 A junior+senior      p2 JP               [2024-03-10, 2024-09-01) ended; act 2024-04-01
  s3 A junior private     p3 US/Holmdel city  [2024-07-01, ...)   no activity; ends 2025-03-01
  s4 B primary public     p4 AU  [2024-02-01, 2024-05-01) suspended, [2024-08-01, ...);
                                 activity 2023-12-01 (before the baseline)
  s5 B primary, closed 2024-10-01   p5 JP   [2023-09-01, ...)   activity 2024-09-01
  s6 B senior public      no pairing
  s7 B primary public     p7 proposed only (never active)
"""

from __future__ import annotations

import math
from datetime import date

import pytest

from pairing.common.enums import ActivityMode, ActivityType, Level
from pairing.dashboard import progress
from pairing.dashboard.progress import Filters
from pairing.dashboard.settings import GoalSettings

from . import factories as f

TODAY = date(2025, 1, 1)
SETTINGS = GoalSettings(target_date=date(2026, 1, 1), target_share=1.0,
                        baseline_date=date(2024, 1, 1), dormancy_months=12)
MONTHS = [date(2024, m, 1) for m in range(1, 13)] + [TODAY]

# Hand-computed per month (see the module docstring): open, paired, engaged.
EXPECTED_OPEN = [7] * 9 + [6] * 4
EXPECTED_PAIRED = [2, 3, 3, 4, 3, 3, 4, 5, 4, 3, 3, 3, 3]
EXPECTED_ENGAGED = [0, 1, 1, 2, 1, 1, 2, 3, 3, 2, 2, 1, 1]


@pytest.fixture
def world(session):
    a = f.make_district(session, name_zh="淡水區", name_en="Tamsui")
    b = f.make_district(session, name_zh="板橋區", name_en="Banqiao")
    holmdel = f.make_partner_city(session, name="Holmdel", region="New Jersey")
    us = f.make_partner_school(session, name="Holmdel High School", country="US",
                               partner_city=holmdel)
    jp = f.make_partner_school(session, name="Osaka Minami", country="JP", city="Osaka")
    au = f.make_partner_school(session, name="Melbourne Grammar", country="AU",
                               city="Melbourne")
    s = {
        1: f.make_school(session, code="100001", district=a, levels=("primary",)),
        2: f.make_school(session, code="100002", district=a, levels=("junior", "senior")),
        3: f.make_school(session, code="100003", district=a, levels=("junior",),
                         is_public=False),
        4: f.make_school(session, code="100004", district=b, levels=("primary",)),
        5: f.make_school(session, code="100005", district=b, levels=("primary",),
                         closed_on=date(2024, 10, 1)),
        6: f.make_school(session, code="100006", district=b, levels=("senior",)),
        7: f.make_school(session, code="100007", district=b, levels=("primary",)),
    }
    p = {
        1: f.make_pairing(session, school=s[1], partner=us, signed_on=date(2023, 6, 1),
                          end_on=date(2025, 6, 1)),
        2: f.make_pairing(session, school=s[2], partner=jp, status="ended",
                          signed_on=date(2024, 3, 10), ended_on=date(2024, 9, 1),
                          end_on=date(2025, 2, 1)),
        3: f.make_pairing(session, school=s[3], partner=us, signed_on=date(2024, 7, 1),
                          end_on=date(2025, 3, 1)),
        4: f.make_pairing(session, school=s[4], partner=au, signed_on=date(2024, 2, 1),
                          events=[("active", date(2024, 2, 1)),
                                  ("suspended", date(2024, 5, 1)),
                                  ("active", date(2024, 8, 1))]),
        5: f.make_pairing(session, school=s[5], partner=jp, signed_on=date(2023, 9, 1)),
        7: f.make_pairing(session, school=s[7], partner=us, status="proposed"),
    }
    f.make_activity(session, pairing=p[1], start_on=date(2024, 6, 15), type=ActivityType.VIRTUAL,
                    mode=ActivityMode.VIRTUAL, local_students=10, local_teachers=2,
                    partner_students=5, partner_teachers=1)
    f.make_activity(session, pairing=p[2], start_on=date(2024, 4, 1),
                    type=ActivityType.OUTBOUND, mode=ActivityMode.IN_PERSON,
                    local_students=20)
    f.make_activity(session, pairing=p[4], start_on=date(2023, 12, 1), local_students=7)
    f.make_activity(session, pairing=p[5], start_on=date(2024, 9, 1), type=ActivityType.PROJECT,
                    mode=ActivityMode.HYBRID, local_students=4, local_teachers=1)
    session.commit()
    return {"a": a.id, "b": b.id, "s": {k: v.id for k, v in s.items()},
            "p": {k: v.id for k, v in p.items()}}


def test_month_points_and_month_arithmetic():
    assert progress.month_points(date(2024, 1, 1), TODAY) == MONTHS
    assert progress.month_points(date(2024, 1, 15), date(2024, 3, 10)) == [
        date(2024, 1, 15), date(2024, 2, 1), date(2024, 3, 1), date(2024, 3, 10)]
    assert progress.add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert progress.months_between(date(2025, 1, 1), date(2026, 1, 1)) == 12
    assert progress.months_between(date(2025, 1, 15), date(2025, 3, 14)) == 1


def test_monthly_series_from_dated_history(session, world):
    series = progress.coverage_series(session, MONTHS, Filters(), 12)
    assert [series[m]["open"] for m in MONTHS] == EXPECTED_OPEN
    assert [series[m]["paired"] for m in MONTHS] == EXPECTED_PAIRED
    assert [series[m]["engaged"] for m in MONTHS] == EXPECTED_ENGAGED


def test_pairing_ended_last_year_counts_only_while_active(session, world):
    only_a = Filters(district_id=world["a"])
    series = progress.coverage_series(session, MONTHS, only_a, 12)
    # District A: s1 always, s2 from 2024-03-10 to 2024-09-01, s3 from 2024-07-01.
    assert [series[m]["paired"] for m in MONTHS] == [1, 1, 1, 2, 2, 2, 3, 3, 2, 2, 2, 2, 2]
    d = progress.dashboard(session, TODAY, only_a, SETTINGS)
    assert [u["code"] for u in d.unpaired] == ["100002"]


def test_closed_school_leaves_denominator_and_numerator(session, world):
    only_b = Filters(district_id=world["b"])
    series = progress.coverage_series(session, [date(2024, 9, 1), date(2024, 10, 1)], only_b, 12)
    # s5 closes 2024-10-01: B has 4 open schools (2 paired: s4, s5) then 3 (1 paired: s4).
    assert series[date(2024, 9, 1)] == {"open": 4, "paired": 2, "engaged": 2}
    assert series[date(2024, 10, 1)] == {"open": 3, "paired": 1, "engaged": 1}


def test_headline_outlook_projection_and_pace(session, world):
    d = progress.dashboard(session, TODAY, Filters(), SETTINGS)
    assert (d.open, d.paired, d.engaged) == (6, 3, 1)
    assert d.pairings == {"active": 3, "live": 1, "dormant": 2, "partner_schools": 2,
                          "countries": 2}
    # Activities started in (2024-01-01, 2025-01-01]: p1's, p2's and p5's (closed school's
    # activities still happened). Students 10+5 + 20 + 4; teachers 2+1 + 0 + 1.
    assert d.activity == {"activities": 3, "students": 39, "teachers": 4}
    o = d.outlook
    assert o.baseline_share == pytest.approx(2 / 7)
    path = 2 / 7 + (1 - 2 / 7) * 366 / 731  # 366 of the 731 days from baseline to target
    assert o.path_share_today == pytest.approx(path)
    assert not o.on_track and o.behind_by == math.ceil(path * 6 - 3) == 1
    assert o.paired_12m_ago == 2 and o.net_change_12m == 1
    assert o.monthly_change == pytest.approx(1 / 12)
    assert o.months_left == 12
    assert o.projected_paired == pytest.approx(4.0)  # 3 + 12 × 1/12
    assert o.projected_share == pytest.approx(4 / 6)
    assert (o.needed_at_target, o.still_needed) == (6, 3)
    assert o.required_pace == pytest.approx(0.25)  # 3 schools in 12 months


def test_on_track_when_at_or_above_the_path(session, world):
    later = GoalSettings(target_date=date(2030, 1, 1), target_share=0.6,
                         baseline_date=date(2024, 1, 1), dormancy_months=12)
    d = progress.dashboard(session, TODAY, Filters(), later)
    # Path on 2025-01-01: 2/7 + (0.6 - 2/7) × 366/2192 ≈ 0.338 < 3/6.
    assert d.outlook.on_track and d.outlook.behind_by == 0
    assert d.outlook.needed_at_target == 4  # ceil(0.6 × 6)
    assert d.outlook.still_needed == 1
    assert d.outlook.months_left == 60
    assert d.outlook.required_pace == pytest.approx(1 / 60)


def test_breakdowns_by_district_level_ownership_and_partner(session, world):
    d = progress.dashboard(session, TODAY, Filters(), SETTINGS)
    assert [(x["name_zh"], x["open"], x["paired"], x["engaged"]) for x in d.districts] == [
        ("板橋區", 3, 1, 0), ("淡水區", 3, 2, 1)]  # lowest share first
    assert [(x["level"], x["open"], x["paired"]) for x in d.levels] == [
        (Level.PRIMARY, 3, 2), (Level.JUNIOR, 2, 1), (Level.SENIOR, 2, 0)]
    assert [(x["public"], x["open"], x["paired"]) for x in d.ownership] == [
        (True, 5, 2), (False, 1, 1)]
    assert [(x["country"], x["pairings"]) for x in d.countries] == [("US", 2), ("AU", 1)]
    assert [(x["name"], x["pairings"]) for x in d.cities] == [("Holmdel", 2), (None, 1)]


def test_activity_breakdown_by_quarter_mode_and_school_year(session, world):
    b = progress.activity_breakdown(session, date(2024, 1, 1), TODAY, Filters())
    assert b.per_quarter == {
        (2024, 1): {}, (2024, 2): {ActivityType.VIRTUAL: 1, ActivityType.OUTBOUND: 1},
        (2024, 3): {ActivityType.PROJECT: 1}, (2024, 4): {}, (2025, 1): {}}
    assert b.per_mode == {ActivityMode.VIRTUAL: 1, ActivityMode.IN_PERSON: 1,
                          ActivityMode.HYBRID: 1}
    # School year 2023 (Aug 2023 - Jul 2024): p1's and p2's; 2024: p5's.
    assert b.per_school_year == {2023: {"students": 35, "teachers": 3, "activities": 2},
                                 2024: {"students": 4, "teachers": 1, "activities": 1}}


def test_action_lists_agree_with_the_counts(session, world):
    d = progress.dashboard(session, TODAY, Filters(), SETTINGS)
    # 板橋區 sorts before 淡水區; within a district by code.
    assert [u["code"] for u in d.unpaired] == ["100006", "100007", "100002"]
    assert len(d.unpaired) == d.open - d.paired
    assert [p["id"] for p in d.dormant] == [world["p"][3], world["p"][4]]
    assert d.dormant[1]["last_activity_on"] == date(2023, 12, 1)
    assert len(d.dormant) == d.pairings["dormant"]
    assert [p["id"] for p in d.ending] == [world["p"][3]]  # p2's end date: already ended
    assert (d.unpaired_total, d.dormant_total, d.ending_total) == (3, 2, 1)


def test_action_lists_keep_the_first_entries_and_count_all(session, world):
    rows, total = progress.dormant_pairings(session, TODAY, Filters(), 12, limit=1)
    assert total == 2
    assert [p["id"] for p in rows] == [world["p"][3]]  # never active: the longest silent
    rows, total = progress.unpaired_schools(session, TODAY, Filters(), limit=2)
    assert ([u["code"] for u in rows], total) == (["100006", "100007"], 3)
    rows, total = progress.unpaired_schools(session, TODAY, Filters(district_id=-1), limit=2)
    assert (rows, total) == ([], 0)


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(level=Level.JUNIOR), (2, 1, 0)),
    (Filters(level=Level.SENIOR), (2, 0, 0)),
    (Filters(public=False), (1, 1, 0)),
    (Filters(public=True), (5, 2, 1)),
    (Filters(county="新北市", level=Level.PRIMARY), (3, 2, 1)),
    (Filters(county="臺北市"), (0, 0, 0)),
])
def test_filters_change_every_figure(session, world, filters, expected):
    d = progress.dashboard(session, TODAY, filters, SETTINGS)
    assert (d.open, d.paired, d.engaged) == expected
    assert len(d.unpaired) == d.open - d.paired
    assert sum(x["open"] for x in d.districts) == d.open


def test_junior_high_in_tamsui(session, world):
    f_ = Filters(district_id=world["a"], level=Level.JUNIOR)
    d = progress.dashboard(session, TODAY, f_, SETTINGS)
    assert (d.open, d.paired) == (2, 1)
    assert [u["code"] for u in d.unpaired] == ["100002"]
    series = progress.coverage_series(session, [date(2024, 4, 1)], f_, 12)
    assert series[date(2024, 4, 1)] == {"open": 2, "paired": 1, "engaged": 1}
    assert [(x["country"], x["pairings"]) for x in d.countries] == [("US", 1)]


def test_same_day_events_the_later_recorded_wins(session):
    school = f.make_school(session, code="200001")
    f.make_pairing(session, school=school, signed_on=date(2024, 1, 1),
                   events=[("active", date(2024, 1, 1)), ("suspended", date(2024, 3, 1)),
                           ("active", date(2024, 3, 1))])
    session.commit()
    series = progress.coverage_series(session, [date(2024, 2, 1), date(2024, 3, 1)], Filters(), 12)
    assert series[date(2024, 3, 1)]["paired"] == 1


def test_empty_database(session):
    d = progress.dashboard(session, TODAY, Filters(), SETTINGS)
    assert (d.open, d.paired, d.paired_share) == (0, 0, None)
    assert d.outlook.projected_share is None and d.unpaired == []

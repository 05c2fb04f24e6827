"""Progress metrics towards the goal: plain functions of a session, a date and filters.

Everything is computed with SQL aggregates, so the number of statements does not grow with
the number of schools, pairings or activities. History comes from ``PairingEvent``: each
event stores when the next one took over (``until_on``), so every event is an interval, and
a pairing is active on a date when the interval that contains the date has the status
'active'. The monthly trajectory is counted from merged month ranges with a sweep
(``_month_start_counts``), not point by point.

Definitions (also shown on the page, "How we count"):
- denominator on a date: schools open then (``closed_on`` empty or after the date);
- paired school: at least one pairing active on the date;
- live pairing: active, with an activity started in the dormancy window before the date
  (``window_start < start_on <= date``); engaged school: at least one live pairing;
- target path: straight line from the paired share at the baseline date to the target share at
  the target date; projection: the net monthly change in paired schools over the last 12 months
  extended to the target date.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.ext.compiler import compiles

from ..common.enums import ActivityMode, ActivityType, Level, PairingStatus
from ..common.i18n import school_year_of
from ..pairings.models import Activity, Pairing, PairingEvent
from ..partners.models import PartnerCity, PartnerSchool
from ..schools.models import District, School
from .settings import GoalSettings

ENDING_WITHIN_DAYS = 90
#: Entries kept per action list (unpaired, dormant, ending): a nation has thousands; the
#: page shows these and the full count.
LIST_LIMIT = 50


# --------------------------------------------------------------------------- dates


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clipped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (negative when end is earlier)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end >= start and end.day < start.day:
        months -= 1
    elif end < start and end.day > start.day:
        months += 1
    return months


def month_points(baseline: date, on_date: date) -> list[date]:
    """The baseline, the first day of every later month up to ``on_date``, and ``on_date``."""
    points = [baseline]
    day = date(baseline.year, baseline.month, 1)
    while True:
        day = add_months(day, 1)
        if day > on_date:
            break
        points.append(day)
    if on_date > points[-1]:
        points.append(on_date)
    return [p for p in points if p <= on_date] or [on_date]


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """Which schools the figures cover. Empty means all."""

    district_id: int | None = None
    county: str | None = None
    level: Level | None = None
    public: bool | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.district_id, self.county, self.level,
                                           self.public))

    def as_args(self) -> dict:
        args: dict = {}
        if self.district_id is not None:
            args["district"] = self.district_id
        if self.county:
            args["county"] = self.county
        if self.level is not None:
            args["level"] = self.level.value
        if self.public is not None:
            args["ownership"] = "public" if self.public else "private"
        return args


def school_conditions(filters: Filters) -> list:
    """WHERE clauses on ``School`` for the filters."""
    conds = []
    if filters.district_id is not None:
        conds.append(School.district_id == filters.district_id)
    if filters.county:
        conds.append(School.district_id.in_(
            select(District.id).where(District.county == filters.county)))
    if filters.level is not None:
        column = {Level.PRIMARY: School.serves_primary, Level.JUNIOR: School.serves_junior,
                  Level.SENIOR: School.serves_senior}[filters.level]
        conds.append(column.is_(True))
    if filters.public is not None:
        conds.append(School.is_public.is_(filters.public))
    return conds


class month_start(sa.sql.functions.FunctionElement):  # noqa: N801 (an SQL function)
    """The month of a date column, as cheaply as each database allows: ``date_trunc`` on
    PostgreSQL (half the cost of ``to_char``), the ISO text's 'YYYY-MM' on SQLite (which
    stores dates as text; ``strftime`` per row costs several times more). Read it back with
    ``year_and_month``."""

    inherit_cache = True


@compiles(month_start)
def _month_start(element, compiler, **kw):
    return f"date_trunc('month', {compiler.process(element.clauses, **kw)})"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


def year_and_month(value) -> tuple[int, int]:
    if isinstance(value, str):
        return int(value[:4]), int(value[5:7])
    return value.year, value.month


def open_on(day) -> sa.ColumnElement:
    """The school is open on ``day`` (a date or a date column)."""
    return sa.or_(School.closed_on.is_(None), School.closed_on > day)


# --------------------------------------------------------------------------- building blocks


def active_intervals():
    """CTE (pairing_id, start_on, next_on): the periods in which each pairing was active.

    Each event stores the date the next status took over (``until_on``), so a period is one
    row of ``pairing_event``; no window function over the whole history.
    """
    return (
        select(PairingEvent.pairing_id.label("pairing_id"),
               PairingEvent.effective_on.label("start_on"),
               PairingEvent.until_on.label("next_on"))
        .where(PairingEvent.status == PairingStatus.ACTIVE)
        .cte("active_periods")
    )


def _covers(iv, day) -> sa.ColumnElement:
    return sa.and_(iv.c.start_on <= day, sa.or_(iv.c.next_on.is_(None), iv.c.next_on > day))


def _live_clause(pairing_id_col, day, window_start) -> sa.ColumnElement:
    return sa.exists().where(Activity.pairing_id == pairing_id_col,
                             Activity.start_on > window_start, Activity.start_on <= day)


def _active_pairings_on(day: date, filters: Filters):
    """Subquery (pairing_id, school_id): pairings active on ``day`` at open, filtered schools."""
    iv = active_intervals()
    return (
        select(Pairing.id.label("pairing_id"), Pairing.school_id.label("school_id"))
        .join(iv, iv.c.pairing_id == Pairing.id)
        .join(School, School.id == Pairing.school_id)
        .where(_covers(iv, day), open_on(day), *school_conditions(filters))
        .distinct()
        .subquery("active_on")
    )


def _dates_cte(points: list[tuple[date, date]]):
    """CTE (d, w): each point date with its dormancy window start, as a UNION ALL of literals."""
    selects = [
        select(sa.literal(d, sa.Date).label("d"), sa.literal(w, sa.Date).label("w"))
        for d, w in points
    ]
    return (selects[0] if len(selects) == 1 else sa.union_all(*selects)).cte("points")


def month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


class window_month(sa.sql.functions.FunctionElement):  # noqa: N801 (an SQL function)
    """The month number of the day before a date column.

    An activity on day ``s`` counts in the dormancy window ``(first(M − k), first(M)]`` of
    the month-start point M exactly when ``M − k <= window_month(s) <= M − 1``: whole months,
    so the windows of consecutive points can be merged into spans (see ``_live_spans``).
    """

    type = sa.Integer()
    inherit_cache = True


@compiles(window_month)
def _window_month(element, compiler, **kw):
    col = compiler.process(element.clauses, **kw)
    return (f"(CAST(EXTRACT(YEAR FROM {col} - 1) AS INTEGER) * 12"
            f" + CAST(EXTRACT(MONTH FROM {col} - 1) AS INTEGER) - 1)")


@compiles(window_month, "sqlite")
def _window_month_sqlite(element, compiler, **kw):
    col = compiler.process(element.clauses, **kw)
    return (f"(CAST(substr({col}, 1, 4) AS INTEGER) * 12"
            f" + CAST(substr({col}, 6, 2) AS INTEGER) - 1"
            f" - CASE WHEN substr({col}, 9, 2) = '01' THEN 1 ELSE 0 END)")


def _live_spans(first: date, last: date, months: int, filters: Filters):
    """CTE (pairing_id, lo, hi): the month-start points (as month numbers) at which each
    pairing had an activity in its dormancy window, merged into spans.

    An activity in window month b makes the points b + 1 … b + ``months`` live; two such
    ranges of one pairing touch when their b differ by at most ``months`` (gaps and islands:
    LAG finds the gaps, a running SUM numbers the islands). One pass over the activities
    instead of one index probe per (point, pairing).
    """
    b = window_month(Activity.start_on)
    acts = (select(Activity.pairing_id.label("pairing_id"), b.label("b"))
            .where(Activity.start_on > add_months(first, -months), Activity.start_on <= last)
            .distinct())
    if school_conditions(filters):
        acts = acts.where(Activity.pairing_id.in_(
            select(Pairing.id).join(School, School.id == Pairing.school_id)
            .where(*school_conditions(filters))))
    acts = acts.cte("window_months")
    gaps = select(
        acts.c.pairing_id, acts.c.b,
        (acts.c.b - func.lag(acts.c.b).over(partition_by=acts.c.pairing_id,
                                             order_by=acts.c.b)).label("gap"),
    ).cte("window_gaps")
    new_island = sa.case((sa.or_(gaps.c.gap.is_(None), gaps.c.gap > months), 1), else_=0)
    islands = select(
        gaps.c.pairing_id, gaps.c.b,
        func.sum(new_island).over(partition_by=gaps.c.pairing_id, order_by=gaps.c.b)
        .label("island"),
    ).cte("window_islands")
    return (
        select(islands.c.pairing_id, (func.min(islands.c.b) + 1).label("lo"),
               (func.max(islands.c.b) + months).label("hi"))
        .group_by(islands.c.pairing_id, islands.c.island)
        .cte("live_spans")
    )


def _least(a, b):
    return sa.case((a < b, a), else_=b)


def _greatest(a, b):
    return sa.case((a > b, a), else_=b)


def _month_start_counts(session, days: list[date], filters: Filters,
                        dormancy_months: int) -> dict[int, dict]:
    """Paired and engaged schools at month-start points, by month number, in one statement.

    Each active period becomes the range of month-start points it covers (cut at the
    school's closing), each engaged stretch its intersection with the pairing's live spans;
    a school's overlapping ranges are merged, and a +1/−1 sweep over the merged ranges'
    ends gives the counts. Rows grow with periods and spans, not with points × pairings.
    """
    first, last = month_number(days[0]), month_number(days[-1])
    lo = window_month(PairingEvent.effective_on) + 1
    hi = sa.case((PairingEvent.until_on.is_(None), last),
                 else_=window_month(PairingEvent.until_on))
    hi = _least(hi, sa.case((School.closed_on.is_(None), last),
                            else_=window_month(School.closed_on)))
    periods = (
        select(Pairing.id.label("pairing_id"), Pairing.school_id.label("school_id"),
               _greatest(lo, first).label("lo"), _least(hi, last).label("hi"))
        .join(Pairing, Pairing.id == PairingEvent.pairing_id)
        .join(School, School.id == Pairing.school_id)
        .where(PairingEvent.status == PairingStatus.ACTIVE, *school_conditions(filters))
        .cte("active_months")
    )
    spans = _live_spans(days[0], days[-1], dormancy_months, filters)
    ranges = sa.union_all(
        select(sa.literal("paired").label("kind"), periods.c.school_id, periods.c.lo,
               periods.c.hi).where(periods.c.lo <= periods.c.hi),
        select(sa.literal("engaged").label("kind"), periods.c.school_id,
               _greatest(periods.c.lo, spans.c.lo), _least(periods.c.hi, spans.c.hi))
        .join(spans, spans.c.pairing_id == periods.c.pairing_id)
        .where(spans.c.lo <= periods.c.hi, spans.c.hi >= periods.c.lo,
               periods.c.lo <= periods.c.hi),
    ).cte("school_months")
    order = (ranges.c.lo, ranges.c.hi)
    reach = select(
        ranges.c.kind, ranges.c.school_id, ranges.c.lo, ranges.c.hi,
        func.max(ranges.c.hi).over(partition_by=(ranges.c.kind, ranges.c.school_id),
                                   order_by=order, rows=(None, -1)).label("reach"),
    ).cte("school_reach")
    starts = sa.case((sa.or_(reach.c.reach.is_(None), reach.c.lo > reach.c.reach), 1), else_=0)
    numbered = select(
        reach.c.kind, reach.c.school_id, reach.c.lo, reach.c.hi,
        func.sum(starts).over(partition_by=(reach.c.kind, reach.c.school_id),
                              order_by=(reach.c.lo, reach.c.hi), rows=(None, 0))
        .label("island"),
    ).cte("school_islands")
    merged = (select(numbered.c.kind, func.min(numbered.c.lo).label("lo"),
                     func.max(numbered.c.hi).label("hi"))
              .group_by(numbered.c.kind, numbered.c.school_id, numbered.c.island)
              .cte("school_spans"))
    ends = sa.union_all(
        select(merged.c.kind, merged.c.lo.label("m"), sa.literal(1).label("delta")),
        select(merged.c.kind, (merged.c.hi + 1).label("m"), sa.literal(-1).label("delta")),
    ).subquery("ends")
    rows = session.execute(
        select(ends.c.kind, ends.c.m, func.sum(ends.c.delta))
        .group_by(ends.c.kind, ends.c.m).order_by(ends.c.m)
    ).all()
    out = {month_number(d): {"paired": 0, "engaged": 0} for d in days}
    changes: dict[str, list[tuple[int, int]]] = {"paired": [], "engaged": []}
    for kind, m, delta in rows:
        changes[kind].append((int(m), int(delta)))
    for kind, steps in changes.items():
        level, i = 0, 0
        for m in sorted(out):
            while i < len(steps) and steps[i][0] <= m:
                level += steps[i][1]
                i += 1
            out[m][kind] = level
    return out


# --------------------------------------------------------------------------- series


def coverage_series(session, points: list[date], filters: Filters,
                    dormancy_months: int) -> dict[date, dict]:
    """For each date: open schools, paired schools, engaged schools. At most four statements.

    Month-start points (the trajectory) read engagement from merged spans; the few other
    points (baseline, today, a year ago) probe the activity index per active pairing.
    """
    pairs = [(d, add_months(d, -dormancy_months)) for d in sorted(set(points))]
    out = {d: {"open": 0, "paired": 0, "engaged": 0} for d, _ in pairs}

    # Open schools: one row per closing date (most schools have none), summed per point.
    closings = session.execute(
        select(School.closed_on, func.count(School.id))
        .where(*school_conditions(filters)).group_by(School.closed_on)
    ).all()
    for d, _ in pairs:
        out[d]["open"] = sum(n for closed, n in closings
                             if closed is None or _as_date(closed) > d)

    month_starts = [d for d, _ in pairs if d.day == 1]
    others = [(d, w) for d, w in pairs if d.day != 1]
    if month_starts:
        counts = _month_start_counts(session, month_starts, filters, dormancy_months)
        for d in month_starts:
            out[d].update(counts[month_number(d)])
    if others:
        pts = _dates_cte(others)
        iv = active_intervals()
        live = _live_clause(Pairing.id, pts.c.d, pts.c.w)
        rows = session.execute(
            select(pts.c.d, func.count(sa.distinct(Pairing.school_id)),
                   func.count(sa.distinct(sa.case((live, Pairing.school_id)))))
            .select_from(pts)
            .join(iv, _covers(iv, pts.c.d))
            .join(Pairing, Pairing.id == iv.c.pairing_id)
            .join(School, School.id == Pairing.school_id)
            .where(open_on(pts.c.d), *school_conditions(filters))
            .group_by(pts.c.d)
        )
        for d, paired, engaged in rows:
            out[_as_date(d)].update(paired=paired, engaged=engaged)
    return out


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _share(part: int | float, whole: int | float) -> float | None:
    return part / whole if whole else None


# --------------------------------------------------------------------------- the goal


@dataclass
class Outlook:
    """Where the city stands against the target path, and where the trend leads."""

    baseline_share: float | None
    target_share: float
    path_share_today: float | None
    on_track: bool
    behind_by: int  # schools short of the target path today (0 when on track)
    net_change_12m: int
    monthly_change: float
    months_left: int
    projected_paired: float
    projected_share: float | None
    needed_at_target: int  # schools that must be paired at the target date
    still_needed: int
    required_pace: float | None  # schools newly paired per month from now on
    paired_12m_ago: int


def path_share(settings: GoalSettings, baseline_share: float, day: date) -> float:
    """The target path's share on ``day``: linear in days from baseline to target."""
    span = (settings.target_date - settings.baseline_date).days
    if span <= 0:
        return settings.target_share
    t = (day - settings.baseline_date).days / span
    t = min(max(t, 0.0), 1.0)
    return baseline_share + (settings.target_share - baseline_share) * t


def outlook(settings: GoalSettings, on_date: date, series: dict[date, dict]) -> Outlook:
    now = series[on_date]
    base = series[settings.baseline_date]
    year_ago = series[add_months(on_date, -12)]
    open_now, paired_now = now["open"], now["paired"]
    baseline_share = _share(base["paired"], base["open"])
    path_today = (path_share(settings, baseline_share or 0.0, on_date)
                  if open_now else None)
    behind = 0
    if path_today is not None:
        behind = max(0, math.ceil(path_today * open_now - paired_now - 1e-9))
    net = paired_now - year_ago["paired"]
    monthly = net / 12
    months_left = max(0, months_between(on_date, settings.target_date))
    projected = min(max(paired_now + monthly * months_left, 0.0), float(open_now))
    needed = math.ceil(settings.target_share * open_now - 1e-9)
    still = max(0, needed - paired_now)
    if still == 0:
        pace = 0.0
    elif months_left > 0:
        pace = still / months_left
    else:
        pace = None
    return Outlook(
        baseline_share=baseline_share, target_share=settings.target_share,
        path_share_today=path_today, on_track=behind == 0, behind_by=behind,
        net_change_12m=net, monthly_change=monthly, months_left=months_left,
        projected_paired=projected, projected_share=_share(projected, open_now),
        needed_at_target=needed, still_needed=still, required_pace=pace,
        paired_12m_ago=year_ago["paired"],
    )


# --------------------------------------------------------------------------- breakdowns


def _for_schools(stmt, filters: Filters):
    """Restrict an activity query to the filtered schools; without filters, skip the joins
    (every activity counts, so the database can read the activity table alone)."""
    conditions = school_conditions(filters)
    if not conditions:
        return stmt
    return (stmt.join(Pairing, Pairing.id == Activity.pairing_id)
            .join(School, School.id == Pairing.school_id).where(*conditions))


def activity_totals(session, on_date: date, filters: Filters, months: int = 12) -> dict:
    """Activities started in the ``months`` before ``on_date`` and their participants."""
    start = add_months(on_date, -months)
    stmt = _for_schools(
        select(func.count(Activity.id),
               func.coalesce(func.sum(Activity.local_students + Activity.partner_students), 0),
               func.coalesce(func.sum(Activity.local_teachers + Activity.partner_teachers), 0))
        .where(Activity.start_on > start, Activity.start_on <= on_date), filters)
    row = session.execute(stmt).one()
    return {"activities": row[0], "students": int(row[1]), "teachers": int(row[2])}


def _school_flags(on_date: date, filters: Filters, dormancy_months: int):
    """Subquery (school_id, engaged): schools with a pairing active on ``on_date``;
    ``engaged`` is 1 when one of them had an activity in the dormancy window."""
    act = _active_pairings_on(on_date, filters)
    live = _live_clause(act.c.pairing_id, on_date, add_months(on_date, -dormancy_months))
    return (select(act.c.school_id.label("school_id"),
                   func.max(sa.case((live, 1), else_=0)).label("engaged"))
            .group_by(act.c.school_id).subquery("paired_schools"))


def school_breakdown(session, on_date: date, filters: Filters,
                     dormancy_months: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Open, paired and engaged schools per district, per level and per ownership.

    One statement grouped by district and the school's flags (a few rows per district);
    the three breakdowns are sums over those groups. A school counts in every level it
    serves.
    """
    flags = _school_flags(on_date, filters, dormancy_months)
    levels = (School.serves_primary, School.serves_junior, School.serves_senior)
    rows = session.execute(
        select(District.id, District.county, District.name_zh, District.name_en,
               School.is_public, *levels, func.count(School.id), func.count(flags.c.school_id),
               func.count(sa.case((flags.c.engaged == 1, School.id))))
        .join(School, School.district_id == District.id)
        .outerjoin(flags, flags.c.school_id == School.id)
        .where(open_on(on_date), *school_conditions(filters))
        .group_by(District.id, District.county, District.name_zh, District.name_en,
                  School.is_public, *levels)
    ).all()
    districts: dict[int, dict] = {}
    per_level = {lvl: [0, 0] for lvl in (Level.PRIMARY, Level.JUNIOR, Level.SENIOR)}
    per_owner = {True: [0, 0], False: [0, 0]}
    for (d_id, county, name_zh, name_en, public, primary, junior, senior,
         n_open, n_paired, n_engaged) in rows:
        d = districts.setdefault(d_id, {"id": d_id, "county": county, "name_zh": name_zh,
                                        "name_en": name_en, "open": 0, "paired": 0,
                                        "engaged": 0})
        d["open"] += n_open
        d["paired"] += n_paired
        d["engaged"] += n_engaged
        for lvl, serves in zip(per_level, (primary, junior, senior), strict=True):
            if serves:
                per_level[lvl][0] += n_open
                per_level[lvl][1] += n_paired
        per_owner[bool(public)][0] += n_open
        per_owner[bool(public)][1] += n_paired
    out = list(districts.values())
    for d in out:
        d["share"] = _share(d["paired"], d["open"])
    out.sort(key=lambda d: (d["share"] or 0.0, -d["open"], d["county"], d["name_zh"]))
    level_rows = [{"level": lvl, "open": o, "paired": p, "share": _share(p, o)}
                  for lvl, (o, p) in per_level.items()]
    owner_rows = [{"public": flag, "open": o, "paired": p, "share": _share(p, o)}
                  for flag, (o, p) in per_owner.items()]
    return out, level_rows, owner_rows


def partner_breakdown(session, on_date: date, filters: Filters,
                      dormancy_months: int) -> tuple[dict, list[dict], list[dict]]:
    """Active and dormant pairings, partner schools and countries; active pairings per
    partner country and per partner city agreement (None: no city-level agreement).

    One statement grouped by partner city and partner country. A partner school has one
    country and at most one city, so its distinct count per group adds up across groups.
    """
    act = _active_pairings_on(on_date, filters)
    live = _live_clause(act.c.pairing_id, on_date, add_months(on_date, -dormancy_months))
    rows = session.execute(
        select(PartnerCity.id, PartnerCity.name, PartnerCity.name_zh, PartnerCity.country,
               PartnerSchool.country, func.count(act.c.pairing_id),
               func.count(sa.case((live, act.c.pairing_id))),
               func.count(sa.distinct(Pairing.partner_school_id)))
        .select_from(act)
        .join(Pairing, Pairing.id == act.c.pairing_id)
        .join(PartnerSchool, PartnerSchool.id == Pairing.partner_school_id)
        .outerjoin(PartnerCity, PartnerCity.id == PartnerSchool.partner_city_id)
        .group_by(PartnerCity.id, PartnerCity.name, PartnerCity.name_zh, PartnerCity.country,
                  PartnerSchool.country)
    ).all()
    countries: dict[str, int] = defaultdict(int)
    cities: dict = {}
    active = live_n = partners = 0
    for city_id, name, name_zh, city_country, country, n, n_live, n_partners in rows:
        active += n
        live_n += n_live
        partners += n_partners
        countries[country] += n
        city = cities.setdefault(city_id, {"id": city_id, "name": name, "name_zh": name_zh,
                                           "country": city_country, "pairings": 0})
        city["pairings"] += n
    counts = {"active": active, "live": live_n, "dormant": active - live_n,
              "partner_schools": partners, "countries": len(countries)}
    by_country = sorted(({"country": c, "pairings": n} for c, n in countries.items()),
                        key=lambda r: (-r["pairings"], r["country"]))
    by_city = sorted(cities.values(),
                     key=lambda r: (r["id"] is None, -r["pairings"], r["name"] or ""))
    return counts, by_country, by_city


@dataclass
class ActivityBreakdown:
    #: (year, quarter) -> ActivityType -> count
    per_quarter: dict = field(default_factory=dict)
    #: ActivityMode -> count
    per_mode: dict = field(default_factory=dict)
    #: school year start -> {"students": n, "teachers": n, "activities": n}
    per_school_year: dict = field(default_factory=dict)


def activity_breakdown(session, since: date, on_date: date, filters: Filters) -> ActivityBreakdown:
    """Activities started from ``since`` to ``on_date``, by month/type/mode in one statement;
    quarters and school years (August to July) are folded in Python from the monthly rows."""
    month = month_start(Activity.start_on)
    rows = session.execute(_for_schools(
        select(month, Activity.type, Activity.mode, func.count(),
               func.coalesce(func.sum(Activity.local_students + Activity.partner_students), 0),
               func.coalesce(func.sum(Activity.local_teachers + Activity.partner_teachers), 0))
        .where(Activity.start_on >= since, Activity.start_on <= on_date)
        .group_by(month, Activity.type, Activity.mode), filters)
    ).all()
    out = ActivityBreakdown()
    per_quarter: dict = defaultdict(lambda: defaultdict(int))
    per_mode: dict = defaultdict(int)
    per_year: dict = defaultdict(lambda: {"students": 0, "teachers": 0, "activities": 0})
    for ym, a_type, mode, n, students, teachers in rows:
        y, m = year_and_month(ym)
        per_quarter[(y, (m - 1) // 3 + 1)][ActivityType(a_type)] += n
        per_mode[ActivityMode(mode)] += n
        sy = school_year_of(date(y, m, 1))
        per_year[sy]["students"] += int(students)
        per_year[sy]["teachers"] += int(teachers)
        per_year[sy]["activities"] += n
    # Every quarter from ``since`` on appears, empty ones too, so gaps show.
    q = (since.year, (since.month - 1) // 3 + 1)
    last = (on_date.year, (on_date.month - 1) // 3 + 1)
    while q <= last:
        out.per_quarter[q] = dict(per_quarter.get(q, {}))
        q = (q[0] + 1, 1) if q[1] == 4 else (q[0], q[1] + 1)
    out.per_mode = {m: per_mode.get(m, 0) for m in ActivityMode}
    for sy in range(school_year_of(since), school_year_of(on_date) + 1):
        out.per_school_year[sy] = per_year.get(
            sy, {"students": 0, "teachers": 0, "activities": 0})
    return out


# --------------------------------------------------------------------------- action lists


def _limited(session, stmt, limit: int) -> tuple[list, int]:
    """The first ``limit`` rows of ``stmt`` and how many there are in all, in one statement
    (a window count), so a nation's thousands of entries are counted, not fetched."""
    rows = session.execute(stmt.add_columns(func.count().over()).limit(limit)).all()
    return [r[:-1] for r in rows], (rows[0][-1] if rows else 0)


def unpaired_schools(session, on_date: date, filters: Filters,
                     limit: int = LIST_LIMIT) -> tuple[list[dict], int]:
    """Open schools without an active pairing on ``on_date``, by district then code: the
    first ``limit`` and the total."""
    act = _active_pairings_on(on_date, filters)
    rows, total = _limited(session, (
        select(School.id, School.code, School.name_zh, School.name_en, District.id,
               District.county, District.name_zh, District.name_en)
        .join(District, District.id == School.district_id)
        .where(open_on(on_date), *school_conditions(filters),
               School.id.not_in(select(act.c.school_id)))
        .order_by(District.county, District.name_zh, School.code)
    ), limit)
    return [{"id": r[0], "code": r[1], "name_zh": r[2], "name_en": r[3], "district_id": r[4],
             "county": r[5], "district_zh": r[6], "district_en": r[7]} for r in rows], total


def _pairing_rows(rows) -> list[dict]:
    return [{"id": r[0], "school_id": r[1], "school_zh": r[2], "school_en": r[3],
             "partner": r[4], "country": r[5], "end_on": r[6], "last_activity_on":
             _as_date(r[7]) if r[7] is not None else None} for r in rows]


def _last_activity_on(on_date: date):
    # Looked up per listed pairing (index on pairing_id, start_on), not aggregated over
    # every activity.
    return (select(func.max(Activity.start_on))
            .where(Activity.pairing_id == Pairing.id, Activity.start_on <= on_date)
            .correlate(Pairing).scalar_subquery())


def _pairing_list_select(act, last_on):
    return (
        select(Pairing.id, School.id, School.name_zh, School.name_en, PartnerSchool.name,
               PartnerSchool.country, Pairing.end_on, last_on)
        .select_from(act)
        .join(Pairing, Pairing.id == act.c.pairing_id)
        .join(School, School.id == Pairing.school_id)
        .join(PartnerSchool, PartnerSchool.id == Pairing.partner_school_id)
    )


def dormant_pairings(session, on_date: date, filters: Filters, dormancy_months: int,
                     limit: int = LIST_LIMIT) -> tuple[list[dict], int]:
    """Active pairings without an activity in the dormancy window, longest silent first
    (never active first): the first ``limit`` and the total."""
    act = _active_pairings_on(on_date, filters)
    window = add_months(on_date, -dormancy_months)
    last_on = _last_activity_on(on_date)
    stmt = (_pairing_list_select(act, last_on)
            .where(~_live_clause(act.c.pairing_id, on_date, window))
            .order_by(sa.case((last_on.is_(None), 0), else_=1), last_on, School.code,
                      Pairing.id))
    rows, total = _limited(session, stmt, limit)
    return _pairing_rows(rows), total


def ending_soon(session, on_date: date, filters: Filters, days: int = ENDING_WITHIN_DAYS,
                limit: int = LIST_LIMIT) -> tuple[list[dict], int]:
    """Active pairings whose end date falls within ``days`` from ``on_date``: the first
    ``limit`` and the total."""
    act = _active_pairings_on(on_date, filters)
    stmt = (_pairing_list_select(act, _last_activity_on(on_date))
            .where(Pairing.end_on >= on_date, Pairing.end_on <= on_date + timedelta(days=days))
            .order_by(Pairing.end_on, Pairing.id))
    rows, total = _limited(session, stmt, limit)
    return _pairing_rows(rows), total


# --------------------------------------------------------------------------- everything


@dataclass
class Dashboard:
    on_date: date
    settings: GoalSettings
    filters: Filters
    points: list[date]
    series: dict[date, dict]
    outlook: Outlook
    pairings: dict
    activity: dict
    districts: list[dict]
    levels: list[dict]
    ownership: list[dict]
    countries: list[dict]
    cities: list[dict]
    activities: ActivityBreakdown
    #: The first LIST_LIMIT entries of each action list; the totals count them all.
    unpaired: list[dict]
    dormant: list[dict]
    ending: list[dict]
    unpaired_total: int
    dormant_total: int
    ending_total: int

    @property
    def now(self) -> dict:
        return self.series[self.on_date]

    @property
    def open(self) -> int:
        return self.now["open"]

    @property
    def paired(self) -> int:
        return self.now["paired"]

    @property
    def engaged(self) -> int:
        return self.now["engaged"]

    @property
    def paired_share(self) -> float | None:
        return _share(self.paired, self.open)

    @property
    def engaged_share(self) -> float | None:
        return _share(self.engaged, self.open)


def dashboard(session, on_date: date, filters: Filters, settings: GoalSettings) -> Dashboard:
    """Every figure and list of the dashboard, in a fixed number of statements."""
    baseline = min(settings.baseline_date, on_date)
    points = month_points(baseline, on_date)
    extra = [settings.baseline_date, on_date, add_months(on_date, -12)]
    series = coverage_series(session, points + extra, filters, settings.dormancy_months)
    districts, levels, ownership = school_breakdown(session, on_date, filters,
                                                    settings.dormancy_months)
    unpaired, unpaired_total = unpaired_schools(session, on_date, filters)
    dormant, dormant_total = dormant_pairings(session, on_date, filters,
                                              settings.dormancy_months)
    ending, ending_total = ending_soon(session, on_date, filters)
    pairings, countries, cities = partner_breakdown(session, on_date, filters,
                                                    settings.dormancy_months)
    return Dashboard(
        on_date=on_date, settings=settings, filters=filters, points=points, series=series,
        outlook=outlook(settings, on_date, series),
        pairings=pairings,
        activity=activity_totals(session, on_date, filters),
        districts=districts, levels=levels, ownership=ownership,
        countries=countries, cities=cities,
        activities=activity_breakdown(session, baseline, on_date, filters),
        unpaired=unpaired, dormant=dormant, ending=ending, unpaired_total=unpaired_total,
        dormant_total=dormant_total, ending_total=ending_total,
    )

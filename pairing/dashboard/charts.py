"""Plotly figures and CSV tables built from the metrics in ``progress.py``.

Each chart is a table first (headers and rows, also served as CSV) and a figure drawn from
that data. Figures are serialised with ``fig.to_json()`` into ``<script type="application/json">``
elements that ``static/js/charts.js`` draws: no inline script, so the CSP holds.
Every text the reader sees goes through Flask-Babel at request time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from ..common.enums import ActivityMode, ActivityType
from ..common.i18n import country_name, school_year_label
from .progress import Dashboard

COLORS = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#d63384", "#20c997", "#6c757d"]
PAIRED, ENGAGED, TARGET, PROJECTION = "#0d6efd", "#198754", "#6c757d", "#fd7e14"
# Plotly hover placeholders, passed into translated messages as %(name)s values so that the
# messages carry no Plotly syntax (and no bare "%" that gettext tools would misread).
SHARE, C0, C1, NO_EXTRA = "%{y:.1f}%", "%{customdata[0]}", "%{customdata[1]}", "<extra></extra>"

# plotly.py ships no plotly.js locale files; these are the zh-TW strings of plotly.js's own
# interface (mode bar, date formats), passed to Plotly through the figure payload.
PLOTLY_ZH_TW = {
    "dictionary": {
        "Autoscale": "自動縮放",
        "Box Select": "矩形選取",
        "Click to enter Colorscale title": "點擊輸入色階標題",
        "Click to enter Component A title": "點擊輸入元件 A 標題",
        "Click to enter Component B title": "點擊輸入元件 B 標題",
        "Click to enter Component C title": "點擊輸入元件 C 標題",
        "Click to enter Plot title": "點擊輸入圖表標題",
        "Click to enter X axis title": "點擊輸入 X 軸標題",
        "Click to enter Y axis title": "點擊輸入 Y 軸標題",
        "Compare data on hover": "懸停時比較資料",
        "Double-click on legend to isolate one trace": "雙擊圖例以單獨顯示一條軌跡",
        "Double-click to zoom back out": "雙擊以縮小回原狀",
        "Download plot as a png": "下載圖表為 PNG 圖檔",
        "Download plot": "下載圖表",
        "Lasso Select": "套索選取",
        "Pan": "平移",
        "Produced with Plotly.js": "由 Plotly.js 製作",
        "Reset": "重設",
        "Reset axes": "重設軸",
        "Reset view": "重設檢視",
        "Show closest data on hover": "懸停時顯示最接近的資料",
        "Snapshot succeeded": "快照成功",
        "Sorry, there was a problem downloading your snapshot!": "抱歉，下載快照時發生問題！",
        "Taking snapshot - this may take a few seconds": "正在產生快照，可能需要幾秒鐘",
        "Toggle Spike Lines": "切換尖峰線",
        "Zoom": "縮放",
        "Zoom in": "放大",
        "Zoom out": "縮小",
        "trace": "軌跡",
        "new text": "新文字",
    },
    "format": {
        "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        "shortDays": ["週日", "週一", "週二", "週三", "週四", "週五", "週六"],
        "months": ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月",
                   "十月", "十一月", "十二月"],
        "shortMonths": ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月",
                        "11月", "12月"],
        "date": "%Y/%m/%d",
        "decimal": ".",
        "thousands": ",",
        "year": "%Y年",
        "month": "%Y年%-m月",
        "dayMonth": "%-m月%-d日",
        "dayMonthYear": "%Y年%-m月%-d日",
    },
}


def plotly_locale() -> dict:
    """Plotly config for the reader's language: {'locale': ..., 'locales': {...}}."""
    loc = get_locale()
    if loc is not None and loc.language == "zh":
        return {"locale": "zh-TW", "locales": {"zh-TW": PLOTLY_ZH_TW}}
    return {"locale": "en", "locales": {}}


def _english() -> bool:
    loc = get_locale()
    return loc is not None and loc.language == "en"


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def district_label(d: dict, several_counties: bool) -> str:
    name = d["name_en"] if _english() and d.get("name_en") else d["name_zh"]
    return f"{d['county']} {name}" if several_counties else name


AXIS = {"automargin": True, "gridcolor": "#e9ecef", "zerolinecolor": "#ced4da"}


def _layout(traces: list, title: str, xaxis: dict | None = None, yaxis: dict | None = None,
            **kw) -> go.Figure:
    """A figure with the house layout, built in one constructor call (much cheaper than
    ``update_layout`` after the fact, which re-validates and re-lays out)."""
    return go.Figure(data=traces, layout={
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "template": {"layout": {"colorway": COLORS}},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', 'Noto Sans TC', "
                           "'Microsoft JhengHei', sans-serif", "size": 12},
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "paper_bgcolor": "white", "plot_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.15},
        "hoverlabel": {"namelength": -1},
        "xaxis": {**AXIS, **(xaxis or {})},
        "yaxis": {**AXIS, **(yaxis or {})},
        **kw,
    })


# --------------------------------------------------------------------------- tables


Table = tuple[list[str], list[list]]


def trajectory_table(d: Dashboard) -> Table:
    headers = [_("Date"), _("Open schools"), _("Paired schools"), _("Engaged schools"),
               _("Paired share (%)"), _("Engaged share (%)"), _("Target path (%)")]
    base = d.outlook.baseline_share or 0.0
    from .progress import path_share

    rows = []
    for p in d.points:
        s = d.series[p]
        share = s["paired"] / s["open"] if s["open"] else None
        eshare = s["engaged"] / s["open"] if s["open"] else None
        rows.append([p.isoformat(), s["open"], s["paired"], s["engaged"], _pct(share),
                     _pct(eshare), _pct(path_share(d.settings, base, p))])
    return headers, rows


def district_table(d: Dashboard) -> Table:
    several = len({x["county"] for x in d.districts}) > 1
    headers = [_("District"), _("Open schools"), _("Paired schools"), _("Engaged schools"),
               _("Paired share (%)")]
    return headers, [[district_label(x, several), x["open"], x["paired"], x["engaged"],
                      _pct(x["share"])] for x in d.districts]


def level_table(d: Dashboard) -> Table:
    headers = [_("Level"), _("Open schools"), _("Paired schools"), _("Paired share (%)")]
    return headers, [[x["level"].label, x["open"], x["paired"], _pct(x["share"])]
                     for x in d.levels]


def ownership_table(d: Dashboard) -> Table:
    headers = [_("Ownership"), _("Open schools"), _("Paired schools"), _("Paired share (%)")]
    return headers, [[_("Public") if x["public"] else _("Private"), x["open"], x["paired"],
                      _pct(x["share"])] for x in d.ownership]


def country_table(d: Dashboard) -> Table:
    return ([_("Country"), _("Active pairings")],
            [[country_name(x["country"]), x["pairings"]] for x in d.countries])


def city_table(d: Dashboard) -> Table:
    rows = []
    for x in d.cities:
        if x["id"] is None:
            label = _("No city agreement")
        else:
            name = x["name"] if _english() or not x["name_zh"] else x["name_zh"]
            label = f"{name} ({country_name(x['country'])})"
        rows.append([label, x["pairings"]])
    return [_("Partner city"), _("Active pairings")], rows


def quarter_label(year: int, quarter: int) -> str:
    return _("%(year)s Q%(quarter)s", year=year, quarter=quarter)


def quarter_table(d: Dashboard) -> Table:
    types = list(ActivityType)
    headers = [_("Quarter")] + [t.label for t in types] + [_("Total")]
    rows = []
    for (y, q), counts in d.activities.per_quarter.items():
        values = [counts.get(t, 0) for t in types]
        rows.append([quarter_label(y, q), *values, sum(values)])
    return headers, rows


def mode_table(d: Dashboard) -> Table:
    return ([_("Mode"), _("Activities")],
            [[m.label, d.activities.per_mode.get(m, 0)] for m in ActivityMode])


def school_year_table(d: Dashboard) -> Table:
    headers = [_("School year"), _("Students"), _("Teachers"), _("Activities")]
    return headers, [[school_year_label(sy), v["students"], v["teachers"], v["activities"]]
                     for sy, v in d.activities.per_school_year.items()]


# --------------------------------------------------------------------------- figures


def trajectory_figure(d: Dashboard) -> go.Figure:
    headers, rows = trajectory_table(d)
    x = [r[0] for r in rows]
    custom = [[r[2], r[1]] for r in rows]
    fig = []
    fig.append(go.Scatter(
        x=x, y=[r[4] for r in rows], name=_("Paired (on paper)"), mode="lines+markers",
        line={"color": PAIRED, "width": 3}, marker={"size": 4}, customdata=custom,
        hovertemplate="%{x}: " + _("%(share)s paired (%(num)s of %(total)s schools)",
                                   share=SHARE, num=C0, total=C1) + NO_EXTRA))
    fig.append(go.Scatter(
        x=x, y=[r[5] for r in rows], name=_("Engaged (live)"), mode="lines",
        line={"color": ENGAGED, "width": 2}, customdata=[[r[3], r[1]] for r in rows],
        hovertemplate="%{x}: " + _("%(share)s engaged (%(num)s of %(total)s schools)",
                                   share=SHARE, num=C0, total=C1) + NO_EXTRA))
    o = d.outlook
    s = d.settings
    fig.append(go.Scatter(
        x=[s.baseline_date.isoformat(), s.target_date.isoformat()],
        y=[_pct(o.baseline_share or 0.0), _pct(s.target_share)], name=_("Target path"),
        mode="lines", line={"color": TARGET, "width": 2, "dash": "dot"},
        hovertemplate="%{x}: " + _("target path %(share)s", share=SHARE) + NO_EXTRA))
    if d.paired_share is not None:
        fig.append(go.Scatter(
            x=[d.on_date.isoformat(), s.target_date.isoformat()],
            y=[_pct(d.paired_share), _pct(o.projected_share)],
            name=_("Projection (trend of the last 12 months)"), mode="lines",
            line={"color": PROJECTION, "width": 2, "dash": "dash"},
            hovertemplate="%{x}: " + _("projected %(share)s", share=SHARE) + NO_EXTRA))
    return _layout(fig, _("Share of open schools paired and engaged"), height=380,
                   xaxis={"type": "date"},
                   yaxis={"range": [0, 105], "ticksuffix": "%",
                          "title": {"text": _("Share of open schools")}})


def _share_bar(labels, table_rows, share_idx, paired_idx, open_idx, title, horizontal=False,
               axis_title=None):
    shares = [r[share_idx] or 0 for r in table_rows]
    custom = [[r[paired_idx], r[open_idx]] for r in table_rows]
    hover = _("%(num)s of %(total)s schools paired", num=C0, total=C1) + NO_EXTRA
    if horizontal:
        bar = go.Bar(y=labels, x=shares, orientation="h", customdata=custom,
                     hovertemplate="%{y}: " + hover, marker={"color": PAIRED},
                     name=_("Paired share"), text=[f"{v:.0f}%" for v in shares],
                     textposition="auto")
    else:
        bar = go.Bar(x=labels, y=shares, customdata=custom, hovertemplate="%{x}: " + hover,
                     marker={"color": PAIRED}, name=_("Paired share"),
                     text=[f"{v:.0f}%" for v in shares], textposition="auto")
    fig = [bar]
    share_axis = {"range": [0, 100], "ticksuffix": "%", "title": {"text": axis_title}}
    if horizontal:
        return _layout(fig, title, height=max(260, 60 + 24 * len(labels)), showlegend=False,
                       xaxis=share_axis, yaxis={"autorange": "reversed"})
    return _layout(fig, title, height=320, showlegend=False, yaxis=share_axis)


#: Bars in the district chart; beyond it the chart shows the lowest, the CSV has all.
MAX_DISTRICT_BARS = 30


def district_figure(d: Dashboard) -> go.Figure:
    _h, rows = district_table(d)
    title = _("Paired share by district (lowest first)")
    if len(rows) > MAX_DISTRICT_BARS:
        title = _("Paired share: the %(shown)s districts with the lowest share, of %(total)s "
                  "(all in the CSV)", shown=MAX_DISTRICT_BARS, total=len(rows))
        rows = rows[:MAX_DISTRICT_BARS]
    return _share_bar([r[0] for r in rows], rows, 4, 2, 1, title, horizontal=True,
                      axis_title=_("Share of open schools paired"))


def level_figure(d: Dashboard) -> go.Figure:
    _h, rows = level_table(d)
    return _share_bar([r[0] for r in rows], rows, 3, 2, 1, _("Paired share by level"),
                      axis_title=_("Share of open schools paired"))


def ownership_figure(d: Dashboard) -> go.Figure:
    _h, rows = ownership_table(d)
    return _share_bar([r[0] for r in rows], rows, 3, 2, 1, _("Paired share: public and private"),
                      axis_title=_("Share of open schools paired"))


def _whole_numbers(values) -> dict:
    """Axis settings for counts: whole-number ticks even when every count is small."""
    top = max([v for v in values if v is not None] + [0])
    return {"rangemode": "tozero", "tickformat": ",d", "dtick": 1 if top <= 5 else None}


def _count_bar(labels, values, title, name, horizontal=True):
    label, value = ("%{y}", "%{x}") if horizontal else ("%{x}", "%{y}")
    hover = label + ": " + _("%(num)s active pairings", num=value) + NO_EXTRA
    if horizontal:
        bar = go.Bar(y=labels, x=values, orientation="h", name=name, hovertemplate=hover,
                     marker={"color": COLORS[3]}, text=values, textposition="auto")
    else:
        bar = go.Bar(x=labels, y=values, name=name, hovertemplate=hover,
                     marker={"color": COLORS[3]})
    fig = [bar]
    if horizontal:
        return _layout(fig, title, height=max(240, 60 + 28 * len(labels)), showlegend=False,
                       yaxis={"autorange": "reversed"},
                       xaxis={"title": {"text": name}, **_whole_numbers(values)})
    return _layout(fig, title, height=max(240, 60 + 28 * len(labels)), showlegend=False)


def country_figure(d: Dashboard) -> go.Figure:
    _h, rows = country_table(d)
    return _count_bar([r[0] for r in rows], [r[1] for r in rows],
                      _("Active pairings by partner country"), _("Active pairings"))


def city_figure(d: Dashboard) -> go.Figure:
    _h, rows = city_table(d)
    return _count_bar([r[0] for r in rows], [r[1] for r in rows],
                      _("Active pairings by partner city agreement"), _("Active pairings"))


def quarter_figure(d: Dashboard) -> go.Figure:
    headers, rows = quarter_table(d)
    x = [r[0] for r in rows]
    fig = []
    for i, a_type in enumerate(ActivityType, start=1):
        fig.append(go.Bar(x=x, y=[r[i] for r in rows], name=a_type.label,
                             hovertemplate="%{x}: %{y} · " + a_type.label + NO_EXTRA))
    return _layout(fig, _("Activities per quarter by type"), height=360, barmode="stack",
                   yaxis={"title": {"text": _("Activities")},
                          **_whole_numbers([r[-1] for r in rows])})


def mode_figure(d: Dashboard) -> go.Figure:
    _h, rows = mode_table(d)
    fig = [go.Bar(x=[r[0] for r in rows], y=[r[1] for r in rows],
                   marker={"color": [COLORS[0], COLORS[2], COLORS[5]]},
                   text=[r[1] for r in rows], textposition="auto",
                   hovertemplate="%{x}: " + _("%(num)s activities", num="%{y}") + NO_EXTRA)]
    return _layout(fig, _("Virtual and in-person activities"), height=300, showlegend=False,
                   yaxis={"title": {"text": _("Activities")},
                          **_whole_numbers([r[1] for r in rows])})


def school_year_figure(d: Dashboard) -> go.Figure:
    _h, rows = school_year_table(d)
    x = [r[0] for r in rows]
    fig = [
        go.Bar(x=x, y=[r[1] for r in rows], name=_("Students"),
               hovertemplate="%{x}: " + _("%(num)s students", num="%{y}") + NO_EXTRA),
        go.Bar(x=x, y=[r[2] for r in rows], name=_("Teachers"),
               hovertemplate="%{x}: " + _("%(num)s teachers", num="%{y}") + NO_EXTRA),
    ]
    return _layout(fig, _("Participants per school year"), height=320, barmode="group",
                   xaxis={"type": "category"},
                   yaxis={"title": {"text": _("Participants")},
                          **_whole_numbers([r[1] for r in rows] + [r[2] for r in rows])})


@dataclass(frozen=True)
class ChartSpec:
    id: str
    table: Callable[[Dashboard], Table]
    figure: Callable[[Dashboard], go.Figure]


CHARTS: dict[str, ChartSpec] = {
    spec.id: spec
    for spec in (
        ChartSpec("trajectory", trajectory_table, trajectory_figure),
        ChartSpec("districts", district_table, district_figure),
        ChartSpec("levels", level_table, level_figure),
        ChartSpec("ownership", ownership_table, ownership_figure),
        ChartSpec("countries", country_table, country_figure),
        ChartSpec("cities", city_table, city_figure),
        ChartSpec("quarters", quarter_table, quarter_figure),
        ChartSpec("modes", mode_table, mode_figure),
        ChartSpec("school-years", school_year_table, school_year_figure),
    )
}


def build_charts(d: Dashboard) -> dict[str, str]:
    """chart id -> figure JSON for the page."""
    return {cid: spec.figure(d).to_json() for cid, spec in CHARTS.items()}


def csv_filename(chart_id: str, d: Dashboard) -> str:
    return f"{chart_id}-{d.on_date.isoformat()}.csv"


def today_label(d: Dashboard) -> str:
    return format_date(d.on_date)

"""The dashboard in a real browser: charts drawn, nothing fetched from elsewhere, no console
errors, filters change the figures, a principal sees their school. Screenshots go to
test-artifacts/ for a human to look at."""

from __future__ import annotations

import re

import pytest

from .conftest import ARTIFACTS, OFFICIAL_EMAIL, PRINCIPAL_EMAIL, sign_in

pytestmark = pytest.mark.browser

CHART_IDS = ["trajectory", "districts", "levels", "ownership", "countries", "cities",
             "quarters", "modes", "school-years"]


def _wait_for_charts(page) -> None:
    page.wait_for_function(
        "() => document.querySelectorAll('.chart .main-svg').length >= "
        f"{len(CHART_IDS)}", timeout=30000)


def _headline(page) -> dict:
    return {key: page.inner_text(f"[data-metric={key}]")
            for key in ("paired", "unpaired", "pairings", "activities")}


def test_dashboard_draws_every_chart_offline_without_errors(page_factory, live_server):
    page, watch = page_factory()
    sign_in(page, live_server.url, OFFICIAL_EMAIL)
    page.goto(f"{live_server.url}/dashboard/")
    _wait_for_charts(page)
    for cid in CHART_IDS:
        assert page.locator(f"#chart-{cid} svg.main-svg").count() >= 1, cid
    # 3 of 6 schools are active today (the Banqiao junior high's pairing ended last year).
    assert page.inner_text("[data-metric=paired]").replace(" ", "") == "3/6"
    assert page.inner_text("[data-count=unpaired]") == "3"
    assert "Holmdel High School" in page.inner_text("#dormant-list")
    assert page.locator("#on-track").is_visible()
    assert watch.outside == []
    assert watch.errors == [], "\n".join(watch.errors)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-desktop-en.png"), full_page=True)
    # The print stylesheet hides the navigation, filters and Plotly's mode bars.
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.locator(".dashboard-filters").is_visible()
    # What charts.js does on 'beforeprint': fit every chart to its printed width.
    page.evaluate("() => Promise.all(Array.from(document.querySelectorAll("
                  "'.chart.js-plotly-plot'), el => Plotly.Plots.resize(el)))")
    box = page.locator("#chart-countries").bounding_box()
    assert box["height"] >= 240
    pdf = page.pdf(path=str(ARTIFACTS / "dashboard-print-en.pdf"), format="A4",
                   print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    print(f"printout: {pages} pages")
    assert 1 <= pages <= 2  # a one-to-two-page handout for a meeting


def test_filter_changes_headline_numbers(page_factory, live_server):
    page, watch = page_factory()
    sign_in(page, live_server.url, OFFICIAL_EMAIL)
    page.goto(f"{live_server.url}/dashboard/")
    _wait_for_charts(page)
    before = _headline(page)
    page.select_option("select[name=district]", label="Tamsui District")
    page.select_option("select[name=level]", value="junior")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_load_state("load")
    _wait_for_charts(page)
    after = _headline(page)
    assert "district=" in page.url and "level=junior" in page.url
    # Junior high in Tamsui: 淡水國中 (paired) and 淡江高中 (unpaired).
    assert after["paired"].replace(" ", "") == "1/2"
    assert after["unpaired"] == "1"
    assert after != before
    assert watch.outside == [] and watch.errors == []


def test_phone_width_and_chinese_screenshots(page_factory, live_server):
    page, watch = page_factory(width=390, height=844)
    sign_in(page, live_server.url, OFFICIAL_EMAIL)
    page.goto(f"{live_server.url}/dashboard/")
    _wait_for_charts(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone-en.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone-en-top.png"))
    page.locator("#chart-trajectory").screenshot(
        path=str(ARTIFACTS / "dashboard-phone-en-trajectory.png"))
    # The language switch sits in the collapsed menu on a phone.
    page.click("button.navbar-toggler")
    page.click("button[name=lang][value=zh_TW]")
    page.wait_for_load_state("load")
    _wait_for_charts(page)
    assert page.locator("html").get_attribute("lang") == "zh-Hant-TW"
    assert "淡水區" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone-zh.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    _wait_for_charts(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-desktop-zh.png"), full_page=True)
    assert watch.outside == [] and watch.errors == []


def test_principal_signs_in_and_sees_their_school(page_factory, live_server):
    page, watch = page_factory()
    sign_in(page, live_server.url, PRINCIPAL_EMAIL)
    school_id = live_server.ids["t1"]
    # The principal lands on their school's page, which includes the status panel.
    assert page.url.rstrip("/").endswith(f"/schools/{school_id}")
    assert "Tamsui Elementary" in page.inner_text("main")
    panel = page.locator("section.school-status")
    assert panel.count() == 1
    assert panel.locator("[data-status=paired]").inner_text() == "Paired"
    assert panel.locator("[data-status=engaged]").inner_text() == "Dormant"
    todo = panel.locator(".school-status-todo").inner_text()
    assert "No activity recorded for" in todo and "Holmdel High School" in todo
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "school-status-principal-en.png"), full_page=True)
    assert watch.outside == []
    assert watch.errors == [], "\n".join(watch.errors)

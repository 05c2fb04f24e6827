"""Browser tests: a live server on a seeded file database, driven by Playwright + Chromium.

Chromium: ``CHROMIUM_PATH`` (default Debian's /usr/bin/chromium). A missing browser skips these
tests, unless ``REQUIRE_BROWSER=1`` (CI), which turns it into a failure.
``TEST_DATABASE_URL`` is not used here: the server runs on SQLite only.
"""

from __future__ import annotations

import os
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from pairing.extensions import db

from .. import factories
from ..conftest import make_test_app

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--headless"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

PRINCIPAL_EMAIL = "principal@example.org"
OFFICIAL_EMAIL = "official@example.org"


def _months_ago(n: int) -> date:
    return date.today() - timedelta(days=30 * n)


def seed(session) -> dict:
    """Two districts, six schools, pairings with dated history and activities (relative to
    today so the dashboard's 'now' is meaningful). Returns ids the tests use."""
    tamsui = factories.make_district(session, name_zh="淡水區", name_en="Tamsui District")
    banqiao = factories.make_district(session, name_zh="板橋區", name_en="Banqiao District")
    holmdel = factories.make_partner_city(session, name="Holmdel", region="New Jersey")
    schools = {
        "t1": factories.make_school(session, code="014601", district=tamsui,
                                    name_zh="淡水國小", name_en="Tamsui Elementary"),
        "t2": factories.make_school(session, code="014602", district=tamsui,
                                    levels=("junior",), name_zh="淡水國中",
                                    name_en="Tamsui Junior High"),
        "t3": factories.make_school(session, code="014603", district=tamsui,
                                    levels=("junior", "senior"), name_zh="淡江高中",
                                    name_en="Tamkang Senior High", is_public=False),
        "b1": factories.make_school(session, code="014701", district=banqiao,
                                    name_zh="板橋國小", name_en="Banqiao Elementary"),
        "b2": factories.make_school(session, code="014702", district=banqiao,
                                    levels=("junior",), name_zh="板橋國中",
                                    name_en="Banqiao Junior High"),
        "b3": factories.make_school(session, code="014703", district=banqiao,
                                    name_zh="後埔國小", name_en="Houpu Elementary"),
    }
    hhs = factories.make_partner_school(session, name="Holmdel High School", city="Holmdel",
                                        country="US", partner_city=holmdel)
    osaka = factories.make_partner_school(session, name="Osaka Minami Junior High",
                                          city="Osaka", country="JP", region="Osaka")
    mel = factories.make_partner_school(session, name="Melbourne Grammar", city="Melbourne",
                                        country="AU", region="Victoria")
    p1 = factories.make_pairing(session, school=schools["t1"], partner=hhs,
                                signed_on=_months_ago(30))
    p2 = factories.make_pairing(session, school=schools["t2"], partner=osaka,
                                signed_on=_months_ago(8))
    factories.make_pairing(session, school=schools["b1"], partner=mel,
                           signed_on=_months_ago(20),
                           end_on=date.today() + timedelta(days=40))
    # Ended last year: counts in the months it was active, not today.
    factories.make_pairing(session, school=schools["b2"], partner=hhs, status="ended",
                           signed_on=_months_ago(28), ended_on=_months_ago(14))
    factories.make_activity(session, pairing=p2, start_on=_months_ago(3), local_students=25,
                            local_teachers=3, partner_students=20, partner_teachers=2)
    factories.make_activity(session, pairing=p1, start_on=_months_ago(20), local_students=10,
                            local_teachers=1)
    factories.make_user(session, role="official", email=OFFICIAL_EMAIL, name="Olivia Official")
    factories.make_user(session, role="principal", school=schools["t1"], email=PRINCIPAL_EMAIL,
                        name="Peter Principal")
    session.flush()
    return {k: s.id for k, s in schools.items()}


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    old = os.environ.get("INSTANCE_PATH")
    os.environ["INSTANCE_PATH"] = str(tmp / "instance")
    try:
        app = make_test_app(f"sqlite:///{tmp / 'browser.sqlite3'}")
    finally:
        if old is None:
            os.environ.pop("INSTANCE_PATH", None)
        else:
            os.environ["INSTANCE_PATH"] = old
    with app.app_context():
        db.create_all()
        ids = seed(db.session)
        db.session.commit()
        db.session.remove()
    server = LiveServer(app)
    server.ids = ids
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM_PATH).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but Chromium is missing at {CHROMIUM_PATH}.")
        pytest.skip(f"Chromium not found at {CHROMIUM_PATH}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if REQUIRE_BROWSER:
            pytest.fail("REQUIRE_BROWSER=1 but Playwright is not installed.")
        pytest.skip("Playwright not installed")
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS,
                                     headless=True)
    except Exception as exc:  # noqa: BLE001 - any launch failure means "no usable browser"
        pw.stop()
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but Chromium did not start: {exc}")
        pytest.skip(f"Chromium did not start: {exc}")
    yield browser
    browser.close()
    pw.stop()


class PageWatch:
    """Collects console errors and requests that leave the app's address."""

    def __init__(self, page, base_url: str):
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if (r.url.startswith(base_url + "/")
                                              or r.url.startswith("data:")
                                              or r.url.startswith("blob:"))
                else self.outside.append(r.url))


@pytest.fixture
def page_factory(browser, live_server):
    contexts = []

    def _make(width: int = 1280, height: int = 900, locale: str = "en-US"):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale=locale)
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(page, live_server.url)
        return page, watch

    yield _make
    for c in contexts:
        c.close()


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state("load")

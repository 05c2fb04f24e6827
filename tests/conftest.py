"""Fixtures: app, client, runner, session, login_as; every database test runs on SQLite and,
when TEST_DATABASE_URL is set, on PostgreSQL too (a fresh database per test run)."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from flask import g, request_started
from sqlalchemy.engine import make_url

from pairing import create_app
from pairing.config import normalise_database_url
from pairing.extensions import db

from . import factories

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
_PG_BASE_URL = os.environ.get("TEST_DATABASE_URL")
_schemas_ready: set[str] = set()
_pg_url: str | None = None


def _backends() -> list[str]:
    if _PG_BASE_URL or REQUIRE_POSTGRES:
        return ["sqlite", "postgresql"]
    return ["sqlite"]


def _create_pg_database() -> str:
    """A database of our own on the TEST_DATABASE_URL server, dropped after the run."""
    global _pg_url
    if _pg_url:
        return _pg_url
    if not _PG_BASE_URL:
        pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set.")
    base = make_url(normalise_database_url(_PG_BASE_URL))
    name = f"{base.database}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    finally:
        admin.dispose()
    _pg_url = base.set(database=name).render_as_string(hide_password=False)
    return _pg_url


def _drop_pg_database() -> None:
    if not _pg_url:
        return
    url = make_url(_pg_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Drop our PostgreSQL database; in CI, any skipped test fails the run."""
    _drop_pg_database()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") == "true" and skipped and session.exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test(s) skipped; in CI every test must run.",
                            red=True)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def make_test_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        # Tests read English unless they choose zh-TW (cookie, Accept-Language or account);
        # production falls back to zh-TW.
        "BABEL_DEFAULT_LOCALE": "en",
    }
    config.update(overrides)
    app = create_app(config)
    request_started.connect(_forget_login_user, app)
    return app


def _forget_login_user(sender, **extra) -> None:
    """Requests reuse the test's app context (the `session` fixture), so `g` outlives a
    request: forget the signed-in user so that each request loads its own from its cookie."""
    g.pop("_login_user", None)


def _clear(app) -> None:
    with app.app_context():
        db.session.remove()
        engine = db.engine
        tables = db.metadata.sorted_tables
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())
        engine.dispose()


@pytest.fixture(params=_backends())
def database_url(request, sqlite_url) -> str:
    if request.param == "postgresql":
        return _create_pg_database()
    return sqlite_url


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url, app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(database_url, **app_config)
    if database_url not in _schemas_ready:
        with app.app_context():
            db.create_all()
        _schemas_ready.add(database_url)
    yield app
    _clear(app)


@pytest.fixture
def session(app):
    """db.session inside an app context."""
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login_as(app, client):
    """login_as(role, school=None) creates a user of that role and signs the client in."""

    def _login(role: str, school=None, email: str | None = None):
        with app.app_context():
            user = factories.make_user(db.session, role=role, school=school, email=email)
            db.session.commit()
            email = user.email
            user_id = user.id
        resp = client.post("/auth/login", data={"email": email,
                                                "password": factories.PASSWORD})
        assert resp.status_code == 302, resp.data[:500]
        return user_id

    return _login

"""The app factory, configuration, migrations and the basic pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pairing.config import load_config, normalise_database_url
from pairing.extensions import db

from .conftest import make_test_app


def test_plain_postgresql_urls_use_psycopg3():
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_secret_key_required_outside_development(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config(str(tmp_path))


def test_development_secret_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_config(str(tmp_path))["SECRET_KEY"]
    second = load_config(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").exists()


def test_defaults(monkeypatch, tmp_path):
    for var in ("JURISDICTION", "TARGET_DATE", "DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    cfg = load_config(str(tmp_path))
    assert cfg["JURISDICTION"] == "新北市"
    assert cfg["TARGET_DATE"].isoformat() == "2030-12-31"
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_sqlite_runs_with_foreign_keys_and_wal(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = make_test_app(sqlite_url)
    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        db.session.remove()
        db.engine.dispose()


def _empty_database(database_url: str, tmp_path, suffix: str) -> str:
    """An empty database beside the test one: a file for SQLite, a new PostgreSQL database."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'{suffix}.sqlite3'}"
    from sqlalchemy.engine import make_url

    base = make_url(database_url)
    name = f"{base.database}_{suffix}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    from sqlalchemy.engine import make_url

    admin = sa.create_engine(make_url(url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_match_models(database_url, tmp_path, monkeypatch):
    """Apply every migration to an empty database, then compare with the models."""
    from flask_migrate import upgrade

    url = _empty_database(database_url, tmp_path, "mig")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    _drop_database(url)


def test_migration_0003_fills_in_when_each_status_ended(database_url, tmp_path, monkeypatch):
    """Upgrading a database with history stores each event's end: the next event's date,
    and of two on one day the later-recorded takes over."""
    from flask_migrate import upgrade

    url = _empty_database(database_url, tmp_path, "mig3")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(url)
    stamp = "'2024-01-01 00:00:00'"
    with app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO district (id, county, name_zh) VALUES (1, '新北市', '板橋區')"))
            conn.execute(sa.text(
                "INSERT INTO school (id, code, name_zh, district_id, serves_primary, "
                "serves_junior, serves_senior, is_public, created_at, updated_at, version) "
                f"VALUES (1, '014601', '板橋國小', 1, TRUE, FALSE, FALSE, TRUE, {stamp}, "
                f"{stamp}, 1)"))
            conn.execute(sa.text(
                "INSERT INTO partner_school (id, name, country, city, serves_primary, "
                "serves_junior, serves_senior, created_at, updated_at, version) "
                f"VALUES (1, 'Holmdel HS', 'US', 'Holmdel', TRUE, FALSE, FALSE, {stamp}, "
                f"{stamp}, 1)"))
            conn.execute(sa.text(
                "INSERT INTO pairing (id, school_id, partner_school_id, status, signed_on, "
                f"created_at, updated_at, version) VALUES (1, 1, 1, 'active', '2023-02-01', "
                f"{stamp}, {stamp}, 1)"))
            for event_id, status, day in ((1, "proposed", "2023-01-01"),
                                          (2, "active", "2023-02-01"),
                                          (3, "suspended", "2023-05-01"),
                                          (4, "active", "2023-05-01")):
                conn.execute(sa.text(
                    "INSERT INTO pairing_event (id, pairing_id, status, effective_on, "
                    f"recorded_at) VALUES ({event_id}, 1, '{status}', '{day}', {stamp})"))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT id, until_on FROM pairing_event ORDER BY id")).all()
        db.engine.dispose()
    ends = {event_id: (str(until)[:10] if until is not None else None)
            for event_id, until in rows}
    assert ends == {1: "2023-02-01", 2: "2023-05-01", 3: "2023-05-01", 4: None}
    _drop_database(url)


def test_anonymous_is_sent_to_sign_in(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/auth/login" in resp.headers["Location"]


def test_sign_in_page_renders_with_security_headers(client):
    resp = client.get("/auth/login")
    assert resp.status_code == 200
    csp = resp.headers["Content-Security-Policy"]
    script_src = csp.split("script-src")[1].split(";")[0]
    assert "'self'" in script_src and "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_404_page_is_friendly(client, login_as):
    login_as("staff")
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert b"main.home" not in resp.data and b"<html" in resp.data


def test_home_shows_counts(client, login_as, session):
    from . import factories

    factories.make_school(session)
    session.commit()
    login_as("official")
    resp = client.get("/", headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    assert b"School Pairing Tracker" in resp.data


def test_plotly_js_served_with_long_cache_and_gzip(client):
    import gzip

    from pairing.main.views import PLOTLY_JS, plotly_js_version

    version = plotly_js_version()
    resp = client.get(f"/assets/plotly-basic-{version}.min.js")
    assert resp.status_code == 200
    assert "immutable" in resp.headers["Cache-Control"]
    assert resp.data == PLOTLY_JS.read_bytes()
    assert b"plotly.js (basic - minified) v" + version.encode() in resp.data[:200]
    resp.close()
    zipped = client.get(f"/assets/plotly-basic-{version}.min.js",
                        headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == PLOTLY_JS.read_bytes()
    assert len(zipped.data) < 500_000
    stale = client.get("/assets/plotly-basic-1.0.0.min.js")
    assert stale.status_code == 302 and version in stale.headers["Location"]


def test_vendored_plotly_is_the_python_packages_plotly_js_version():
    """Figures come from plotly.py; the browser must run the plotly.js it was built for."""
    import re
    from pathlib import Path

    import plotly

    from pairing.main.views import plotly_js_version

    with (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").open(
            encoding="utf-8") as f:
        bundled = f.read(200)
    assert re.search(r"plotly\.js v(\d+\.\d+\.\d+)", bundled).group(1) == plotly_js_version()
    licence = Path(__file__).resolve().parent.parent / "static/vendor/plotly/LICENSE"
    assert "MIT" in licence.read_text(encoding="utf-8")


def test_language_switch_sets_cookie(client):
    resp = client.post("/language", data={"lang": "en", "next": "/auth/login"})
    assert resp.status_code == 302
    assert "lang=en" in resp.headers["Set-Cookie"]
    page = client.get("/auth/login")
    assert b'lang="en"' in page.data
    resp = client.post("/language", data={"lang": "xx"})
    assert resp.status_code == 400


def test_language_switch_refuses_offsite_next(client):
    resp = client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert resp.headers["Location"].endswith("/")
    assert "evil" not in resp.headers["Location"]

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


def test_migrations_match_models(database_url, tmp_path, monkeypatch):
    """Apply every migration to an empty database, then compare with the models."""
    from flask_migrate import upgrade

    url = database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    else:  # a separate, empty PostgreSQL database
        from sqlalchemy.engine import make_url

        base = make_url(url)
        name = base.database + "_mig"
        admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_test_app(url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    if not url.startswith("sqlite"):
        admin = sa.create_engine(make_url(database_url).set(database="postgres"),
                                isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = make_url(url).database
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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

"""School Pairing Tracker: the application factory."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import load_config
from .extensions import babel, compress, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite enforces foreign keys only when asked; WAL lets readers and a writer overlap."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(load_config(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)
    _register_template_helpers(app)

    from . import cli

    cli.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from flask_bootstrap import Bootstrap5
    from flask_sqlalchemy.session import Session as FsaSession

    from . import models  # noqa: F401  (registers every table)
    from .audit import tracking
    from .common.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    Bootstrap5(app)
    tracking.install(FsaSession)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please sign in to open this page.")
    login_manager.login_message_category = "info"

    from .accounts.models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None


def _register_blueprints(app: Flask) -> None:
    from .accounts.permissions import enforce_password_change, guard_anonymous
    from .accounts.views import bp as auth_bp
    from .common.web import materialize_static, register_error_pages, security_headers
    from .main import views as main_views

    app.register_blueprint(main_views.bp)
    app.register_blueprint(main_views.i18n_bp)
    app.register_blueprint(main_views.assets_bp)
    app.add_url_rule("/healthz", "health", main_views.health)
    app.register_blueprint(auth_bp)

    from .accounts.admin import bp as users_bp
    from .audit.views import bp as audit_bp
    from .dashboard.views import bp as dashboard_bp
    from .imports.views import bp as imports_bp
    from .pairings.views import bp as pairings_bp
    from .partners.views import bp as partners_bp
    from .schools.views import bp as schools_bp

    for bp in (schools_bp, partners_bp, pairings_bp, dashboard_bp, imports_bp, users_bp,
               audit_bp):
        app.register_blueprint(bp)

    from .common.i18n import use_wtforms_catalog

    app.before_request(use_wtforms_catalog)
    app.before_request(guard_anonymous)
    app.before_request(enforce_password_change)
    app.after_request(security_headers)
    app.after_request(materialize_static)  # runs before Flask-Compress's after_request
    register_error_pages(app)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import (
        format_date,
        format_datetime,
        format_decimal,
        format_percent,
        get_locale,
    )

    from .accounts import permissions
    from .audit.labels import field_label, value_label
    from .common import enums, i18n
    from .common.urls import args_without
    from .main.views import plotly_js_version

    app.jinja_env.globals.update(
        audit_field_label=field_label,
        audit_value_label=value_label,
        country_name=i18n.country_name,
        county_name=i18n.county_name,
        school_year_label=i18n.school_year_label,
        can_edit_school=permissions.can_edit_school,
        is_staff=permissions.is_staff,
        args_without=args_without,
        Level=enums.Level,
        PairingStatus=enums.PairingStatus,
        ActivityType=enums.ActivityType,
        ActivityMode=enums.ActivityMode,
        Role=enums.Role,
        plotly_version=plotly_js_version(),
        current_locale=get_locale,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        format_percent=format_percent,
    )
    app.jinja_env.add_extension("jinja2.ext.do")


def freeze_startup_objects() -> None:
    """Hide what start-up allocated (modules, mappers, catalogs, plotly's validators) from
    the cyclic garbage collector. Its full collections otherwise walk all of them, about
    0.1 s every few requests. For the long-lived entry points (app.py, bench/wsgi.py), once
    the app is built; not in ``create_app``, which tests call many times."""
    gc.collect()
    gc.freeze()

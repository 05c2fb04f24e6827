"""Settings read from the environment, with defaults that are safe for development."""

from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as ``psql`` and hosting panels write them).

    SQLAlchemy would pick psycopg2 for them, which we do not install; we ship psycopg 3.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path, development: bool) -> str:
    """Return SECRET_KEY; in development generate one once and keep it under instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not development:
        raise RuntimeError(
            "SECRET_KEY must be set when FLASK_ENV/APP_ENV is not 'development'."
        )
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(instance_path: str) -> dict:
    """Build the Flask config mapping from environment variables."""
    ipath = Path(instance_path)
    env = os.environ.get("APP_ENV", os.environ.get("FLASK_ENV", "development")).lower()
    development = env in {"development", "dev", "test", "testing"}
    default_db = f"sqlite:///{ipath / 'pairing.sqlite3'}"
    return {
        "APP_ENV": env,
        "SECRET_KEY": _secret_key(ipath, development),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL", default_db)
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "JURISDICTION": os.environ.get("JURISDICTION", "新北市"),
        "TARGET_DATE": date.fromisoformat(os.environ.get("TARGET_DATE", "2030-12-31")),
        "TARGET_SHARE": float(os.environ.get("TARGET_SHARE", "1.0")),
        "BASELINE_DATE": date.fromisoformat(os.environ.get("BASELINE_DATE", "2023-04-01")),
        "DORMANCY_MONTHS": int(os.environ.get("DORMANCY_MONTHS", "12")),
        "PUBLIC_DASHBOARD": _bool(os.environ.get("PUBLIC_DASHBOARD")),
        "DASHBOARD_CACHE": _bool(os.environ.get("DASHBOARD_CACHE"), True),
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "zh_TW"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Asia/Taipei"),
        "LANGUAGES": ["zh_TW", "en"],
        "PER_PAGE": int(os.environ.get("PER_PAGE", "25")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(os.environ.get("SESSION_COOKIE_SECURE"), not development),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(os.environ.get("SESSION_COOKIE_SECURE"), not development),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(os.environ.get("RATELIMIT_ENABLED"), True),
        "BOOTSTRAP_SERVE_LOCAL": True,
        # Flask-Compress compresses pages and static text files (common/web.py reads the
        # small static files into memory for it); plotly.js is served precompressed.
        "COMPRESS_LEVEL": 6,
        "COMPRESS_STREAMS": False,
        "WTF_CSRF_TIME_LIMIT": None,
    }

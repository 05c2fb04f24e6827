"""WSGI entry points for the throughput run under gunicorn.

``bench.wsgi:app`` is the real application on ``BENCH_DATABASE_URL`` with the benchmark's
settings (CSRF off so that the load tool can post writes; rate limits off); ``bench.wsgi:minimal``
is a bare Flask app with one trivial route, the framework's floor under the same gunicorn.
"""

from __future__ import annotations

import os

from flask import Flask


def bench_config(database_url: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench-secret-key",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
    }


def _make_minimal() -> Flask:
    minimal = Flask("bench_minimal")

    @minimal.route("/min")
    def min_route():
        return "ok"

    return minimal


minimal = _make_minimal()

if os.environ.get("BENCH_DATABASE_URL"):
    from pairing import create_app, freeze_startup_objects

    app = create_app(bench_config(os.environ["BENCH_DATABASE_URL"]))
    freeze_startup_objects()  # as app.py does

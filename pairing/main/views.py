"""Home page, language switch, health check and plotly.js (the vendored basic bundle)."""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from ..accounts.permissions import any_signed_in
from ..common.i18n import LOCALE_COOKIE
from ..common.urls import safe_next
from ..extensions import db

bp = Blueprint("main", __name__)
i18n_bp = Blueprint("i18n", __name__)
assets_bp = Blueprint("assets", __name__)

PLOTLY_JS = (Path(__file__).resolve().parent.parent.parent / "static" / "vendor" / "plotly"
             / "plotly-basic.min.js")
ONE_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=1)
def plotly_js_version() -> str:
    """The bundle's version, from its licence header (``plotly.js (basic - minified) v3.7.0``)."""
    with PLOTLY_JS.open(encoding="utf-8") as f:
        head = f.read(300)
    match = re.search(r"\bv(\d+\.\d+\.\d+)", head)
    return match.group(1) if match else "0"


@bp.route("/")
@any_signed_in
def home():
    from ..pairings.models import Activity, Pairing
    from ..partners.models import PartnerSchool
    from ..schools.models import School

    counts = {
        "schools": db.session.scalar(select(func.count()).select_from(School)),
        "partners": db.session.scalar(select(func.count()).select_from(PartnerSchool)),
        "pairings": db.session.scalar(select(func.count()).select_from(Pairing)),
        "activities": db.session.scalar(select(func.count()).select_from(Activity)),
    }
    return render_template("main/home.html", counts=counts)


@i18n_bp.route("/language", methods=["POST"])
def set_language():
    """Remember the language: on the account when signed in, otherwise in a cookie."""
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    target = safe_next(request.form.get("next")) or url_for("main.home")
    response = redirect(target)
    response.set_cookie(LOCALE_COOKIE, lang, max_age=ONE_YEAR, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    return response


@assets_bp.route("/assets/plotly-basic-<version>.min.js")
def plotly_js(version: str):
    """plotly.js, basic bundle (scatter and bar, all the dashboard draws; see
    static/vendor/plotly/README.md), the same plotly.js version as plotly.py's.

    The URL carries the version, so the file can be cached for a year. The file is 1.1 MB;
    browsers that accept gzip get a copy compressed once per process (about 0.37 MB).
    """
    if version != plotly_js_version():
        return redirect(url_for("assets.plotly_js", version=plotly_js_version()))
    if "gzip" in request.accept_encodings:
        response = make_response(_plotly_gzip())
        response.headers["Content-Type"] = "text/javascript; charset=utf-8"
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_file(PLOTLY_JS, mimetype="text/javascript", max_age=ONE_YEAR)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


@lru_cache(maxsize=1)
def _plotly_gzip() -> bytes:
    return gzip.compress(PLOTLY_JS.read_bytes(), compresslevel=9, mtime=0)


def health():
    db.session.execute(select(1))
    return {"status": "ok"}

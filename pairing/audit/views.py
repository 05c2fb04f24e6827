"""Stub: replaced by the feature's real views."""

from flask import Blueprint, render_template

from ..accounts.permissions import staff_required

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@staff_required
def index():
    return render_template("main/placeholder.html")

"""Stub: replaced by the feature's real views."""

from flask import Blueprint, render_template

from ..accounts.permissions import any_signed_in, staff_required

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.route("/")
@staff_required
def index():
    return render_template("main/placeholder.html")


@bp.route("/export/<kind>")
@any_signed_in
def export_list(kind: str):
    """Stub: the import/export feature replaces this."""
    return render_template("main/placeholder.html")

"""Stub: replaced by the feature's real views."""

from flask import Blueprint, render_template

from ..accounts.permissions import admin_required

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.route("/")
@admin_required
def index():
    return render_template("main/placeholder.html")

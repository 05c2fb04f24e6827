"""Stub: replaced by the feature's real views."""

from flask import Blueprint, render_template

from ..accounts.permissions import admin_required, any_signed_in

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.route("/")
@any_signed_in
def index():
    return render_template("main/placeholder.html")


@bp.route("/settings")
@admin_required
def settings():
    return render_template("main/placeholder.html")

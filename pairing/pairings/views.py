"""Stub: replaced by the feature's real views."""

from flask import Blueprint, render_template

from ..accounts.permissions import any_signed_in

bp = Blueprint("pairings", __name__, url_prefix="/pairings")


@bp.route("/")
@any_signed_in
def index():
    return render_template("main/placeholder.html")


@bp.route("/activities")
@any_signed_in
def activities():
    return render_template("main/placeholder.html")

"""Stub: replaced by the feature's real views."""

from flask import Blueprint, render_template

from ..accounts.permissions import any_signed_in

bp = Blueprint("partners", __name__, url_prefix="/partners")


@bp.route("/")
@any_signed_in
def index():
    return render_template("main/placeholder.html")


@bp.route("/cities")
@any_signed_in
def cities():
    return render_template("main/placeholder.html")

"""Stub: replaced by the feature's real views."""

from flask import Blueprint, render_template

from ..accounts.permissions import any_signed_in

bp = Blueprint("schools", __name__, url_prefix="/schools")


@bp.route("/")
@any_signed_in
def index():
    return render_template("main/placeholder.html")


@bp.route("/<int:school_id>")
@any_signed_in
def detail(school_id: int):
    return render_template("main/placeholder.html")

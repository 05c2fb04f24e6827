"""Local schools: list, detail, create, edit (staff: everything; a principal: the contact
details of their own school), delete."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..accounts.permissions import (
    any_signed_in,
    can_edit_school,
    is_staff,
    require,
    roles_required,
    staff_required,
)
from ..audit.queries import history_for
from ..common.enums import Role
from ..common.lists import paginate_rows
from ..dashboard.status import school_status
from ..extensions import db
from . import service
from .forms import ConfirmDeleteForm, SchoolContactForm, SchoolFilterForm, SchoolForm
from .models import School

bp = Blueprint("schools", __name__, url_prefix="/schools")


def _school_or_404(school_id: int) -> School:
    school = db.session.get(School, school_id)
    if school is None:
        abort(404)
    return school


def form_status(conflicts=None) -> int:
    """200 for a fresh form, 422 for a refused input, 409 for a refused stale save."""
    if conflicts is not None:
        return 409
    return 422 if request.method == "POST" else 200


def _integrity_message(form, message: str) -> None:
    """Turn a database refusal into a form error (the constraints back up the form checks)."""
    if "code" in message and hasattr(form, "code"):
        form.code.errors.append(_("Another school already uses this code."))
    else:
        form.form_errors.append(_("The database refused the change (a rule such as a unique "
                                  "value was broken). Nothing was saved."))


@bp.route("/")
@any_signed_in
def index():
    districts = service.districts()
    form = SchoolFilterForm(formdata=request.args, districts=districts)
    page = paginate_rows(service.school_list_query(request.args))
    filtered = any(request.args.get(k) for k in service.FILTER_KEYS)
    return render_template("schools/index.html", form=form, page=page, filtered=filtered)


@bp.route("/<int:school_id>")
@any_signed_in
def detail(school_id: int):
    school = service.get_school_detail(school_id)
    if school is None:
        abort(404)
    status = school_status(db.session, school.id)
    history = history_for("school", school.id) if is_staff() else None
    propose_url = (url_for("pairings.new", school_id=school.id)
                   if can_edit_school(school.id) else None)
    return render_template("schools/detail.html", school=school, status=status,
                           history=history, propose_url=propose_url)


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = SchoolForm(districts=service.districts())
    if form.validate_on_submit():
        if service.code_taken(form.code.data):
            form.code.errors.append(_("Another school already uses this code."))
        else:
            school = School()
            result = service.save_form(school, form, service.SCHOOL_FIELDS, new=True)
            if result.saved:
                flash(_("School %(code)s created.", code=school.code), "success")
                return redirect(url_for(".detail", school_id=school.id))
            _integrity_message(form, result.integrity_error or "")
    return render_template("schools/form.html", form=form, school=None), form_status()


@bp.route("/<int:school_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.STAFF, Role.PRINCIPAL)
def edit(school_id: int):
    require(can_edit_school(school_id))
    school = _school_or_404(school_id)
    if is_staff():
        form = SchoolForm(obj=school, districts=service.districts())
        fields = service.SCHOOL_FIELDS
    else:
        form = SchoolContactForm(obj=school)
        fields = service.CONTACT_FIELDS
    conflicts = None
    if form.validate_on_submit():
        if "code" in fields and service.code_taken(form.code.data, exclude_id=school.id):
            form.code.errors.append(_("Another school already uses this code."))
        else:
            result = service.save_form(school, form, fields)
            if result.saved:
                flash(_("School %(code)s saved.", code=school.code), "success")
                return redirect(url_for(".detail", school_id=school.id))
            if result.conflicts is not None:
                conflicts = result.conflicts
                # Show the current version: saving again now overwrites knowingly.
                form.version.data = school.version
            else:
                _integrity_message(form, result.integrity_error or "")
    return render_template("schools/form.html", form=form, school=school,
                           conflicts=conflicts, contact_only=not is_staff()), form_status(conflicts)


@bp.route("/<int:school_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(school_id: int):
    school = _school_or_404(school_id)
    form = ConfirmDeleteForm()
    reason = service.delete_refusal(school)
    if request.method == "POST" and not reason:
        if not form.validate_on_submit():
            abort(400)
        code = school.code
        reason = service.delete_school(school)
        if not reason:
            flash(_("School %(code)s deleted.", code=code), "success")
            return redirect(url_for(".index"))
    status = 409 if (reason and request.method == "POST") else 200
    return render_template("schools/delete.html", school=school, form=form,
                           reason=reason), status

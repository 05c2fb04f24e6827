"""Pairing and activity pages: lists, detail, create/edit/delete.

Views parse, authorise, call ``service`` and render. Record-level rules: staff manage every
pairing and activity; a principal proposes pairings (proposed/negotiating) for their own school,
edits those proposals, and records, edits and deletes the activities of their school's
pairings. Everything else is 403, whatever ids are put in URLs or form fields.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.permissions import (
    allowed_pairing_statuses,
    any_signed_in,
    can_manage_school_records,
    is_staff,
    require,
    roles_required,
    staff_required,
)
from ..audit.queries import history_for
from ..common.concurrency import FieldConflict, stale_changes
from ..common.enums import Role
from ..common.lists import paginate
from ..common.urls import args_without
from ..extensions import db
from ..partners.models import PartnerSchool
from ..schools.models import School
from . import service
from .forms import ActivityFilterForm, ActivityForm, DeleteForm, PairingFilterForm, PairingForm
from .models import Activity, Pairing

bp = Blueprint("pairings", __name__, url_prefix="/pairings")

MANAGERS = (Role.ADMIN, Role.STAFF, Role.PRINCIPAL)
PAIRING_FORM_FIELDS = ["partner_school_id", "status", "signed_on", "start_on", "end_on",
                       "ended_on", "focus_areas", "coordinator", "notes"]
ACTIVITY_FORM_FIELDS = list(service.ACTIVITY_FIELDS)


def _can_edit_pairing(pairing: Pairing) -> bool:
    """Staff edit every pairing; a principal edits their own school's proposals."""
    return (can_manage_school_records(pairing.school_id)
            and pairing.status in allowed_pairing_statuses())


def _export_links(kind: str) -> dict[str, str]:
    filters = args_without("page")
    return {fmt: url_for("imports.export_list", kind=kind, format=fmt, **filters)
            for fmt in ("csv", "xlsx")}


# --------------------------------------------------------------------------- pairings


@bp.route("/")
@any_signed_in
def index():
    filters = PairingFilterForm(request.args)
    pagination = paginate(service.pairing_list_query(request.args))
    return render_template("pairings/index.html", filters=filters, pagination=pagination,
                           export=_export_links("pairings"),
                           can_create=current_user.role in MANAGERS)


@bp.route("/<int:pairing_id>")
@any_signed_in
def detail(pairing_id: int):
    pairing = db.session.scalar(
        select(Pairing).where(Pairing.id == pairing_id)
        .options(selectinload(Pairing.events), selectinload(Pairing.activities))
    )
    if pairing is None:
        abort(404)
    history = history_for("pairing", pairing.id) if is_staff() else None
    return render_template(
        "pairings/detail.html", pairing=pairing, history=history,
        can_edit=_can_edit_pairing(pairing), can_delete=is_staff(),
        can_record=can_manage_school_records(pairing.school_id),
    )


def _school_from_form(form: PairingForm) -> School | None:
    """The school the code names; 403 when the user may not manage it (form tampering)."""
    code = (form.school_code.data or "").strip().upper()
    if not code:
        return None
    school = db.session.scalar(select(School).where(School.code == code))
    if school is not None:
        require(can_manage_school_records(school.id))
    return school


def _setup_pairing_form(form: PairingForm) -> None:
    allowed = allowed_pairing_statuses()
    form.status.choices = [(s.value, s.label) for s in allowed]


def _pairing_data(form: PairingForm, school: School) -> dict:
    data = {name: form[name].data for name in PAIRING_FORM_FIELDS}
    data["school_id"] = school.id
    data["effective_on"] = form.effective_on.data
    return data


def _show_rule_errors(form: PairingForm, error: service.PairingRuleError) -> None:
    for name, messages in error.errors.items():
        target = "school_code" if name == "school_id" else name
        if target and target in form:
            form[target].errors = [*form[target].errors, *messages]
        else:
            form.form_errors.extend(messages)


def _render_pairing_form(form, school, pairing=None, conflicts=None, status=200):
    return render_template("pairings/form.html", form=form, school=school, pairing=pairing,
                           conflicts=conflicts), status


def _validate_pairing_form(form: PairingForm, school: School | None) -> bool:
    """Run the form's validators, then check that the school code names a school."""
    valid = form.validate_on_submit()
    if school is None and form.school_code.data and not form.school_code.errors:
        form.school_code.errors = [*form.school_code.errors, _(
            "No school has the code %(code)s. Check the code in the school list.",
            code=form.school_code.data)]
    return valid and school is not None


def _save_pairing(form: PairingForm, school: School, pairing: Pairing | None):
    """Save through the service; returns the saved pairing or None (errors are on the form)."""
    data = _pairing_data(form, school)
    try:
        if pairing is None:
            saved = service.create_pairing(db.session, data, current_user)
        else:
            saved = service.update_pairing(db.session, pairing, data, current_user)
        db.session.commit()
        return saved
    except service.NotAllowed:
        db.session.rollback()
        abort(403)
    except service.PairingRuleError as exc:
        db.session.rollback()
        _show_rule_errors(form, exc)
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append(_(
            "The pairing could not be saved because it conflicts with a saved record (for "
            "example, another open pairing of the same two schools). Nothing was saved."))
    return None


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    form = PairingForm()
    _setup_pairing_form(form)
    if request.method == "GET":
        school = None
        school_id = request.args.get("school_id", type=int)
        if school_id is not None:
            school = db.get_or_404(School, school_id)
            require(can_manage_school_records(school.id))
        elif current_user.role == Role.PRINCIPAL:
            school = current_user.school
        if school is not None:
            form.school_code.data = school.code
        partner_id = request.args.get("partner_school_id", type=int)
        if partner_id is not None and db.session.get(PartnerSchool, partner_id) is not None:
            form.partner_school_id.data = partner_id
        return _render_pairing_form(form, school)

    school = _school_from_form(form)
    if _validate_pairing_form(form, school):
        saved = _save_pairing(form, school, None)
        if saved is not None:
            flash(_("Pairing saved."), "success")
            return redirect(url_for(".detail", pairing_id=saved.id))
    return _render_pairing_form(form, school, status=422)


def _pairing_conflicts(pairing: Pairing, form: PairingForm) -> list[FieldConflict] | None:
    conflicts = stale_changes(pairing, form, PAIRING_FORM_FIELDS)
    if conflicts is not None and form.school_code.data != pairing.school.code:
        conflicts.insert(0, FieldConflict(str(form.school_code.label.text), pairing.school.code,
                                          form.school_code.data or "—"))
    return conflicts


@bp.route("/<int:pairing_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(pairing_id: int):
    pairing = db.get_or_404(Pairing, pairing_id)
    require(_can_edit_pairing(pairing))
    form = PairingForm(obj=pairing)
    _setup_pairing_form(form)
    if request.method == "GET":
        form.school_code.data = pairing.school.code
        form.version.data = pairing.version
        return _render_pairing_form(form, pairing.school, pairing)

    school = _school_from_form(form)
    if _validate_pairing_form(form, school):
        conflicts = _pairing_conflicts(pairing, form)
        if conflicts is not None:
            form.version.data = pairing.version
            return _render_pairing_form(form, school, pairing, conflicts, 409)
        try:
            saved = _save_pairing(form, school, pairing)
        except StaleDataError:
            db.session.rollback()
            pairing = db.get_or_404(Pairing, pairing_id)
            conflicts = _pairing_conflicts(pairing, form) or []
            form.version.data = pairing.version
            return _render_pairing_form(form, school, pairing, conflicts, 409)
        if saved is not None:
            flash(_("Pairing saved."), "success")
            return redirect(url_for(".detail", pairing_id=saved.id))
    return _render_pairing_form(form, school, pairing, status=422)


def _activity_count(pairing_id: int) -> int:
    return db.session.scalar(select(func.count(Activity.id))
                             .where(Activity.pairing_id == pairing_id)) or 0


@bp.route("/<int:pairing_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(pairing_id: int):
    pairing = db.get_or_404(Pairing, pairing_id)
    activities = _activity_count(pairing.id)
    form = DeleteForm()
    if request.method == "GET":
        form.version.data = pairing.version
        return render_template("pairings/delete.html", pairing=pairing, form=form,
                               activities=activities)
    if activities:
        flash(_("This pairing has activities, so it cannot be deleted."), "danger")
        return render_template("pairings/delete.html", pairing=pairing, form=form,
                               activities=activities), 409
    if not form.validate_on_submit() or form.version.data != str(pairing.version):
        flash(_("The pairing changed since you opened this page. Nothing was deleted; "
                "check it and try again."), "warning")
        form.version.data = pairing.version
        return render_template("pairings/delete.html", pairing=pairing, form=form,
                               activities=activities), 409
    school_id = pairing.school_id
    try:
        if not service.delete_pairing(db.session, pairing):
            abort(409)
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        flash(_("The pairing could not be deleted because other records depend on it."),
              "danger")
        return redirect(url_for(".detail", pairing_id=pairing_id))
    flash(_("Pairing deleted."), "success")
    return redirect(url_for("schools.detail", school_id=school_id))


# --------------------------------------------------------------------------- activities


@bp.route("/activities")
@any_signed_in
def activities():
    filters = ActivityFilterForm(request.args)
    pagination = paginate(service.activity_list_query(request.args))
    return render_template("pairings/activities.html", filters=filters, pagination=pagination,
                           export=_export_links("activities"))


def _render_activity_form(form, pairing, activity=None, conflicts=None, status=200):
    return render_template("pairings/activity_form.html", form=form, pairing=pairing,
                           activity=activity, conflicts=conflicts), status


def _save_activity(form: ActivityForm, activity: Activity) -> bool:
    data = {name: form[name].data for name in ACTIVITY_FORM_FIELDS}
    try:
        service.save_activity(db.session, activity, data)
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append(_("The activity could not be saved: a value breaks a rule "
                                  "(counts of 0 or more, end date on or after the start). "
                                  "Nothing was saved."))
        return False


@bp.route("/<int:pairing_id>/activities/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def activity_new(pairing_id: int):
    pairing = db.get_or_404(Pairing, pairing_id)
    require(can_manage_school_records(pairing.school_id))
    form = ActivityForm()
    if request.method == "POST":
        if form.validate_on_submit():
            activity = Activity(pairing_id=pairing.id)
            if _save_activity(form, activity):
                flash(_("Activity recorded."), "success")
                return redirect(url_for(".detail", pairing_id=pairing.id))
        return _render_activity_form(form, pairing, status=422)
    return _render_activity_form(form, pairing)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def activity_edit(activity_id: int):
    activity = db.get_or_404(Activity, activity_id)
    pairing = activity.pairing
    require(can_manage_school_records(pairing.school_id))
    form = ActivityForm(obj=activity)
    if request.method == "GET":
        form.version.data = activity.version
        return _render_activity_form(form, pairing, activity)
    if form.validate_on_submit():
        conflicts = stale_changes(activity, form, ACTIVITY_FORM_FIELDS)
        if conflicts is None:
            try:
                if _save_activity(form, activity):
                    flash(_("Activity saved."), "success")
                    return redirect(url_for(".detail", pairing_id=pairing.id))
            except StaleDataError:
                db.session.rollback()
                activity = db.get_or_404(Activity, activity_id)
                conflicts = stale_changes(activity, form, ACTIVITY_FORM_FIELDS) or []
        if conflicts is not None:
            form.version.data = activity.version
            return _render_activity_form(form, pairing, activity, conflicts, 409)
    return _render_activity_form(form, pairing, activity, status=422)


@bp.route("/activities/<int:activity_id>/delete", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def activity_delete(activity_id: int):
    activity = db.get_or_404(Activity, activity_id)
    pairing = activity.pairing
    require(can_manage_school_records(pairing.school_id))
    form = DeleteForm()
    if request.method == "GET":
        form.version.data = activity.version
        return render_template("pairings/activity_delete.html", activity=activity,
                               pairing=pairing, form=form)
    if not form.validate_on_submit() or form.version.data != str(activity.version):
        flash(_("The activity changed since you opened this page. Nothing was deleted; "
                "check it and try again."), "warning")
        form.version.data = activity.version
        return render_template("pairings/activity_delete.html", activity=activity,
                               pairing=pairing, form=form), 409
    try:
        service.delete_activity(db.session, activity)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("The activity changed since you opened this page. Nothing was deleted."),
              "warning")
        return redirect(url_for(".detail", pairing_id=pairing.id))
    flash(_("Activity deleted."), "success")
    return redirect(url_for(".detail", pairing_id=pairing.id))


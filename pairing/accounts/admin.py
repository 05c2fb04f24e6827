"""User administration (administrators only): list, create, edit, (de)activate, reset password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..audit import tracking
from ..audit.queries import history_for
from ..common.concurrency import FieldConflict, stale_changes
from ..common.enums import Role
from ..common.lists import apply_sort, paginate, search_clause
from ..extensions import db
from . import service
from .forms import ConfirmForm, EditUserForm, FilterUsersForm, ResetPasswordForm, UserForm
from .models import User
from .permissions import admin_required

bp = Blueprint("users", __name__, url_prefix="/users")

SORTS = {"email": User.email, "name": User.name, "role": User.role,
         "last_login": User.last_login_at}


def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _yes_no(value) -> str:
    return _("yes") if value else _("no")


def _stale(user: User, form) -> list[FieldConflict] | None:
    """Conflicts when the form was loaded from an older version of the user."""
    conflicts = stale_changes(user, form, fields=["email", "name"])
    if conflicts is None:
        return None
    theirs_role = form.role.data or ""
    if user.role.value != theirs_role:
        yours = Role(theirs_role).label if theirs_role in Role._value2member_map_ else theirs_role
        conflicts.append(FieldConflict(str(form.role.label.text), user.role.label, yours))
    saved_code = user.school.code if user.school else ""
    # Only principals keep a school code; for other roles it is ignored on save.
    yours_code = (form.school_code.data or "").strip() if theirs_role == "principal" else ""
    if yours_code != saved_code:
        conflicts.append(FieldConflict(str(form.school_code.label.text), saved_code or "—",
                                       yours_code or "—"))
    if bool(form.active.data) != user.active:
        conflicts.append(FieldConflict(str(form.active.label.text), _yes_no(user.active),
                                       _yes_no(form.active.data)))
    return conflicts


def _stale_page(user: User, conflicts: list[FieldConflict], form, template: str, **ctx):
    db.session.rollback()
    db.session.refresh(user)
    if "version" in form:
        form.version.data = user.version
    form.form_errors.append(_("Someone else changed this user while you were editing. Nothing "
                              "was saved. Check the values below and save again."))
    return render_template(template, form=form, user=user, conflicts=conflicts, **ctx), 409


@bp.route("/")
@admin_required
def index():
    filters = FilterUsersForm(request.args)
    stmt = select(User).options(joinedload(User.school))
    clause = search_clause(filters.q.data, User.email, User.name)
    if clause is not None:
        stmt = stmt.where(clause)
    if filters.role.data in [r.value for r in Role]:
        stmt = stmt.where(User.role == Role(filters.role.data))
    if filters.active.data in ("0", "1"):
        stmt = stmt.where(User.active.is_(filters.active.data == "1"))
    stmt = apply_sort(stmt, SORTS, "email")
    page = paginate(stmt)
    return render_template("users/index.html", page=page, filters=filters)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    form = UserForm()
    del form.version
    if form.validate_on_submit():
        try:
            user = service.create_user(
                db.session, email=form.email.data, name=form.name.data,
                role=Role(form.role.data), school_code=form.school_code.data,
                password=form.password.data, active=bool(form.active.data))
            db.session.commit()
        except service.UserError as exc:
            db.session.rollback()
            _field_error(form, exc)
        except IntegrityError:
            db.session.rollback()
            form.email.errors.append(_("A user with this e-mail already exists."))
        else:
            flash(_("User %(email)s created. Give them the temporary password; they must "
                    "change it at the next sign-in.", email=user.email), "success")
            return redirect(url_for("users.detail", user_id=user.id))
    status = 422 if form.is_submitted() else 200
    return render_template("users/form.html", form=form, user=None), status


def _field_error(form, exc: service.UserError) -> None:
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, str(exc.message)]
    else:
        form.form_errors.append(str(exc.message))


@bp.route("/<int:user_id>")
@admin_required
def detail(user_id: int):
    user = _get_user(user_id)
    return render_template("users/detail.html", user=user,
                           history=history_for("user", user.id))


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(user_id: int):
    user = _get_user(user_id)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.role.data = user.role.value
        form.school_code.data = user.school.code if user.school else ""
        form.version.data = user.version
    if form.validate_on_submit():
        # Signing in also bumps the version (last sign-in time): a stale form is refused
        # only when a field on it differs from the saved value.
        conflicts = _stale(user, form)
        if conflicts:
            return _stale_page(user, conflicts, form, "users/form.html")
        try:
            service.update_user(
                db.session, user, email=form.email.data, name=form.name.data,
                role=Role(form.role.data), school_code=form.school_code.data,
                active=bool(form.active.data), acting_user_id=current_user.id)
            db.session.commit()
        except service.UserError as exc:
            db.session.rollback()
            _field_error(form, exc)
        except StaleDataError:
            return _stale_page(user, [], form, "users/form.html")
        except IntegrityError:
            db.session.rollback()
            form.email.errors.append(_("A user with this e-mail already exists."))
        else:
            flash(_("User %(email)s saved.", email=user.email), "success")
            return redirect(url_for("users.detail", user_id=user.id))
    status = 422 if form.is_submitted() else 200
    return render_template("users/form.html", form=form, user=user), status


def _toggle(user_id: int, active: bool):
    user = _get_user(user_id)
    form = ConfirmForm()
    template = "users/confirm_active.html"
    if user.active == active:
        flash(_("Nothing to do: the account is already in that state."), "info")
        return redirect(url_for("users.detail", user_id=user.id))
    if form.validate_on_submit():
        try:
            service.set_active(db.session, user, active, current_user.id)
            db.session.commit()
        except service.UserError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc.message))
            return render_template(template, form=form, user=user, active=active), 422
        except StaleDataError:
            return _stale_page(user, [], form, template, active=active)
        if active:
            flash(_("%(email)s can sign in again.", email=user.email), "success")
        else:
            flash(_("%(email)s is deactivated and signed out.", email=user.email), "success")
        return redirect(url_for("users.detail", user_id=user.id))
    return render_template(template, form=form, user=user, active=active)


@bp.route("/<int:user_id>/deactivate", methods=["GET", "POST"])
@admin_required
def deactivate(user_id: int):
    return _toggle(user_id, False)


@bp.route("/<int:user_id>/reactivate", methods=["GET", "POST"])
@admin_required
def reactivate(user_id: int):
    return _toggle(user_id, True)


@bp.route("/<int:user_id>/reset-password", methods=["GET", "POST"])
@admin_required
def reset_password(user_id: int):
    user = _get_user(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        service.reset_password(user, form.password.data)
        tracking.record(db.session, "password_reset", "user", user.id, user.email)
        try:
            db.session.commit()
        except StaleDataError:
            return _stale_page(user, [], form, "users/reset_password.html")
        flash(_("A temporary password is set for %(email)s. They must change it at the next "
                "sign-in.", email=user.email), "success")
        return redirect(url_for("users.detail", user_id=user.id))
    status = 422 if form.is_submitted() else 200
    return render_template("users/reset_password.html", form=form, user=user), status

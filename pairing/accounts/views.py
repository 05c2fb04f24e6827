"""Sign-in, sign-out and changing one's own password."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from ..audit import tracking
from ..common.enums import Role
from ..common.models import utcnow
from ..common.urls import safe_next
from ..extensions import db, limiter
from .forms import ChangePasswordForm, LoginForm
from .models import User
from .passwords import MIN_LENGTH

bp = Blueprint("auth", __name__, url_prefix="/auth")

#: Failed attempts allowed per account and per address before further attempts get 429.
LOGIN_LIMIT = "10 per 5 minutes"


def _login_key() -> str:
    """Throttle per submitted account as well as per address."""
    return "login:" + (request.form.get("email") or "").strip().lower()


def _user_key() -> str:
    return f"password:{current_user.get_id()}"


def _failed(response) -> bool:
    """Only failures count against the limits: a successful sign-in redirects."""
    return response.status_code != 302


def landing_url(user: User) -> str:
    if user.role == Role.PRINCIPAL and user.school_id:
        return url_for("schools.detail", school_id=user.school_id)
    return url_for("main.home")


def demo_accounts() -> list[dict]:
    """The demo accounts, shown on the sign-in page only while the demo data is loaded."""
    from .. import demo

    accounts = getattr(demo, "DEMO_ACCOUNTS", None)
    loaded = getattr(demo, "demo_loaded", None)
    if not accounts or loaded is None or not loaded(db.session):
        return []
    out = []
    for acct in accounts:
        try:
            role_label = Role(acct["role"]).label
        except ValueError:
            role_label = acct["role"]
        out.append({"email": acct["email"], "password": acct["password"],
                    "role_label": role_label})
    return out


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"], deduct_when=_failed)
@limiter.limit(LOGIN_LIMIT, methods=["POST"], key_func=_login_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user)
            # A bulk UPDATE: the sign-in time is bookkeeping, it must not bump the version
            # (an administrator's open edit form for this user would turn stale).
            db.session.execute(sa.update(User).where(User.id == user.id)
                               .values(last_login_at=utcnow()))
            tracking.record(db.session, "login", "user", user.id, user.email,
                            user=(user.id, user.email))
            db.session.commit()
            if user.must_change_password:
                return redirect(url_for("auth.change_password"))
            target = safe_next(request.args.get("next")) or landing_url(user)
            return redirect(target)
        # Same message whether or not the e-mail is registered: no user enumeration.
        tracking.record(db.session, "login_failed", "user", user.id if user else None, email,
                        user=(None, None))
        db.session.commit()
        flash(_("Wrong e-mail or password, or the account is deactivated."), "danger")
    return render_template("auth/login.html", form=form, demo_accounts=demo_accounts())


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(LOGIN_LIMIT, methods=["POST"], key_func=_user_key, deduct_when=_failed)
def change_password():
    """Change one's own password; the current one is required."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        if not user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
            return _password_page(form, 422)
        user.set_password(form.new_password.data)
        user.must_change_password = False
        tracking.record(db.session, "password_change", "user", user.id, user.email)
        db.session.commit()
        flash(_("Your password has been changed."), "success")
        return redirect(landing_url(user))
    status = 422 if form.is_submitted() else 200
    return _password_page(form, status)


def _password_page(form: ChangePasswordForm, status: int):
    return render_template("auth/password.html", form=form, min_length=MIN_LENGTH), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    tracking.record(db.session, "logout", "user", current_user.id, current_user.email)
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))

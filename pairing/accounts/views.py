"""Sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..audit import tracking
from ..common.enums import Role
from ..common.models import utcnow
from ..common.urls import safe_next
from ..extensions import db, limiter
from .forms import LoginForm
from .models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_key() -> str:
    """Throttle per submitted account as well as per address."""
    return "login:" + (request.form.get("email") or "").strip().lower()


def landing_url(user: User) -> str:
    if user.role == Role.PRINCIPAL and user.school_id:
        return url_for("schools.detail", school_id=user.school_id)
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per 5 minutes", methods=["POST"], deduct_when=lambda r: r.status_code != 302)
@limiter.limit("10 per 5 minutes", methods=["POST"], key_func=_login_key,
               deduct_when=lambda r: r.status_code != 302)
def login():
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user)
            user.last_login_at = utcnow()
            tracking.record(db.session, "login", "user", user.id, user.email,
                            user=(user.id, user.email))
            db.session.commit()
            target = safe_next(request.args.get("next")) or landing_url(user)
            return redirect(target)
        # Same message whether or not the e-mail is registered: no user enumeration.
        tracking.record(db.session, "login_failed", "user", user.id if user else None, email,
                        user=(None, None))
        db.session.commit()
        flash(_("Wrong e-mail or password, or the account is deactivated."), "danger")
        return render_template("auth/login.html", form=form), 200
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    tracking.record(db.session, "logout", "user", current_user.id, current_user.email)
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))

"""Who may do what. Every view declares its policy with one of these decorators.

The rules, in one place:
- admin: everything; staff: every record, no users or settings;
- principal: read everything; on their own school edit its contact details, propose pairings
  and record activities;
- official: read-only;
- anonymous: the sign-in page (and the dashboard when PUBLIC_DASHBOARD is on).
"""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user, login_required

from ..common.enums import PairingStatus, Role

# Endpoints an anonymous visitor may open. Everything else redirects to sign-in.
PUBLIC_ENDPOINTS = {"static", "bootstrap.static", "auth.login", "i18n.set_language",
                    "assets.plotly_js", "health"}
PUBLIC_WHEN_DASHBOARD_OPEN = {"dashboard.index", "dashboard.chart_csv"}


def roles_required(*roles: Role):
    """Signed-in users whose role is one of ``roles``; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def any_signed_in(view):
    """Readable by every signed-in role."""
    wrapped = login_required(view)
    wrapped.allowed_roles = tuple(Role)
    return wrapped


staff_required = roles_required(Role.ADMIN, Role.STAFF)
admin_required = roles_required(Role.ADMIN)


def is_staff(user=None) -> bool:
    user = user or current_user
    return bool(user and user.is_authenticated and user.role in (Role.ADMIN, Role.STAFF))


def can_edit_school(school_id: int | None, user=None) -> bool:
    """Staff edit every school; a principal edits only their own school's contact details."""
    user = user or current_user
    if not (user and user.is_authenticated):
        return False
    if is_staff(user):
        return True
    return user.role == Role.PRINCIPAL and school_id is not None and user.school_id == school_id


def can_manage_school_records(school_id: int | None, user=None) -> bool:
    """Propose pairings and record activities for this school."""
    return can_edit_school(school_id, user)


def allowed_pairing_statuses(user=None) -> list[PairingStatus]:
    """Only staff mark a pairing active, suspended or ended; principals propose."""
    if is_staff(user):
        return list(PairingStatus)
    return [PairingStatus.PROPOSED, PairingStatus.NEGOTIATING]


def require(condition: bool) -> None:
    """Abort with 403 unless ``condition``; used for record-level checks inside views."""
    if not condition:
        abort(403)


def guard_anonymous():
    """before_request: anonymous users reach only the public endpoints."""
    if current_user.is_authenticated:
        return None
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if endpoint in PUBLIC_WHEN_DASHBOARD_OPEN and current_app.config.get("PUBLIC_DASHBOARD"):
        return None
    if request.endpoint is None:  # 404s render normally
        return None
    return current_app.login_manager.unauthorized()


# Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_EXEMPT = {"auth.change_password", "auth.logout", "static", "bootstrap.static",
                          "i18n.set_language", "assets.plotly_js", "health"}


def enforce_password_change():
    """before_request: a user with a temporary password changes it before anything else."""
    if not (current_user.is_authenticated and current_user.must_change_password):
        return None
    if request.endpoint is None or request.endpoint in PASSWORD_CHANGE_EXEMPT:
        return None
    return redirect(url_for("auth.change_password"))


def is_admin(user=None) -> bool:
    user = user or current_user
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)

"""User administration rules, shared by the web views and the command line."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..common.enums import Role
from ..schools.models import School
from .models import User


class UserError(ValueError):
    """A change refused by a rule; ``field`` names the form field it belongs to (or None)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def email_taken(session, email: str, exclude_id: int | None = None) -> bool:
    stmt = select(User.id).where(func.lower(User.email) == normalise_email(email))
    if exclude_id is not None:
        stmt = stmt.where(User.id != exclude_id)
    return session.scalar(stmt) is not None


def school_for_code(session, role: Role, code: str | None) -> School | None:
    """The school a principal is bound to; other roles have none."""
    if role != Role.PRINCIPAL:
        return None
    code = (code or "").strip()
    if not code:
        raise UserError(_l("A principal needs the code of their school."), "school_code")
    school = session.scalar(select(School).where(School.code == code))
    if school is None:
        raise UserError(_l("No school has the code %(code)s.", code=code), "school_code")
    return school


def other_active_admins(session, user: User) -> int:
    """Active administrators besides ``user``. The rows are locked (PostgreSQL) until the
    transaction ends, so two administrators demoting each other at the same time cannot both
    see the other one still there: the second waits, then counts again."""
    stmt = (select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
            .with_for_update())
    return sum(1 for admin_id in session.scalars(stmt) if admin_id != user.id)


def check_last_admin(session, user: User, new_role: Role, new_active: bool) -> None:
    """Refuse to leave the system without an active administrator."""
    was_active_admin = user.role == Role.ADMIN and user.active
    stays_active_admin = new_role == Role.ADMIN and new_active
    if was_active_admin and not stays_active_admin and other_active_admins(session, user) == 0:
        raise UserError(_l("This is the last active administrator. Make another user an "
                           "active administrator first."))


def create_user(session, email: str, name: str, role: Role, school_code: str | None,
                password: str, must_change_password: bool = True,
                active: bool = True) -> User:
    email = normalise_email(email)
    if email_taken(session, email):
        raise UserError(_l("A user with this e-mail already exists."), "email")
    school = school_for_code(session, role, school_code)
    user = User(email=email, name=name.strip() or email, role=role,
                school_id=school.id if school else None, active=active,
                must_change_password=must_change_password)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def update_user(session, user: User, *, email: str, name: str, role: Role,
                school_code: str | None, active: bool, acting_user_id: int | None) -> None:
    email = normalise_email(email)
    if email_taken(session, email, exclude_id=user.id):
        raise UserError(_l("A user with this e-mail already exists."), "email")
    school = school_for_code(session, role, school_code)
    set_active(session, user, active, acting_user_id, role=role)
    user.email = email
    user.name = name.strip() or email
    user.role = role
    user.school_id = school.id if school else None


def set_active(session, user: User, active: bool, acting_user_id: int | None,
               role: Role | None = None) -> None:
    role = role or user.role
    if not active and user.active and user.id == acting_user_id:
        raise UserError(_l("You cannot deactivate your own account."), "active")
    check_last_admin(session, user, role, active)
    user.active = active


def reset_password(user: User, password: str) -> None:
    user.set_password(password)
    user.must_change_password = True

"""`flask create-user`: the password is prompted for, never taken from the command line."""

from __future__ import annotations

from sqlalchemy import select

from pairing.accounts.models import User
from pairing.audit.models import AuditLog
from pairing.common.enums import Role

from . import factories

GOOD = "a-long-admin-secret\na-long-admin-secret\n"


def test_creates_first_admin_with_prompted_password(runner, session):
    result = runner.invoke(args=["create-user", "Root@Example.org", "--role", "admin",
                                         "--name", "Root"], input=GOOD)
    assert result.exit_code == 0, result.output
    assert "Created Administrator root@example.org." in result.output
    assert "a-long-admin-secret" not in result.output  # the prompt hides the input
    user = session.scalar(select(User).where(User.email == "root@example.org"))
    assert user.role == Role.ADMIN and user.name == "Root" and user.active
    assert user.check_password("a-long-admin-secret")
    assert user.must_change_password is False
    row = session.scalar(select(AuditLog).where(AuditLog.entity_type == "user",
                                                AuditLog.entity_id == user.id))
    assert (row.action, row.user_email) == ("create", "create-user")


def test_password_is_not_accepted_on_the_command_line(runner, session):
    result = runner.invoke(args=["create-user", "a@example.org", "--role", "admin",
                                         "--password", "a-long-admin-secret"])
    assert result.exit_code != 0
    assert "No such option" in result.output
    assert session.scalar(select(User)) is None


def test_confirmation_must_match(runner, session):
    result = runner.invoke(args=["create-user", "a@example.org", "--role", "admin"],
                           input="a-long-admin-secret\ndifferent-secret-x\n"
                                 "a-long-admin-secret\na-long-admin-secret\n")
    assert result.exit_code == 0
    assert "do not match" in result.output.lower() or "match" in result.output.lower()


def test_weak_password_refused(runner, session):
    result = runner.invoke(args=["create-user", "a@example.org", "--role", "admin"],
                           input="password123\npassword123\n")
    assert result.exit_code == 1
    assert "too common or too simple" in result.output
    result = runner.invoke(args=["create-user", "a@example.org", "--role", "admin"],
                           input="Xy7-short\nXy7-short\n")
    assert result.exit_code == 1
    assert "Use at least 10 characters." in result.output
    assert session.scalar(select(User)) is None


def test_duplicate_email_refused(runner, session):
    factories.make_user(session, role="staff", email="taken@example.org")
    session.commit()
    result = runner.invoke(args=["create-user", "TAKEN@example.org", "--role", "admin"], input=GOOD)
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert len(session.scalars(select(User)).all()) == 1


def test_principal_needs_a_valid_school(runner, session):
    result = runner.invoke(args=["create-user", "p@example.org", "--role", "principal"], input=GOOD)
    assert result.exit_code == 1 and "A principal needs --school CODE." in result.output
    result = runner.invoke(args=["create-user", "p@example.org", "--role", "principal",
                                         "--school", "999999"], input=GOOD)
    assert result.exit_code == 1 and "No school with the code 999999." in result.output
    assert session.scalar(select(User)) is None

    school = factories.make_school(session, code="016001")
    session.commit()
    result = runner.invoke(args=["create-user", "p@example.org", "--role", "principal",
                                         "--school", "016001"], input=GOOD)
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "p@example.org"))
    assert user.school_id == school.id and user.role == Role.PRINCIPAL


def test_unknown_role_refused(runner, session):
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "emperor"], input=GOOD)
    assert result.exit_code == 2
    assert session.scalar(select(User)) is None

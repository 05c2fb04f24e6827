"""Flask commands. Each is a thin wrapper around a service function the web views use too."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from .audit.tracking import actor_override
from .common.enums import Role
from .extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    try:  # the import commands live with the import feature
        from .imports.cli import export_command, import_group

        app.cli.add_command(import_group)
        app.cli.add_command(export_command)
    except ImportError:  # pragma: no cover - feature not installed yet
        pass


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only load when the database has no schools.")
def seed_demo(if_empty: bool) -> None:
    """Load the deterministic demo data set (idempotent)."""
    from .demo import seed

    token = actor_override.set((None, "seed-demo"))
    try:
        summary = seed(db.session, only_if_empty=if_empty)
        db.session.commit()
    finally:
        actor_override.reset(token)
    click.echo(summary)


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", default=None, help="Display name (defaults to the e-mail).")
@click.option("--school", "school_code", default=None, help="School code, for principals.")
def create_user(email: str, role: str, name: str | None, school_code: str | None) -> None:
    """Create a user; the password is prompted for, never taken from the command line."""
    from .accounts.models import User
    from .accounts.passwords import password_problems
    from .schools.models import School

    email = email.strip().lower()
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException(_("A user with the e-mail %(email)s already exists.",
                                     email=email))
    school_id = None
    if role == Role.PRINCIPAL.value:
        if not school_code:
            raise click.ClickException(_("A principal needs --school CODE."))
        school = db.session.scalar(select(School).where(School.code == school_code))
        if school is None:
            raise click.ClickException(_("No school with the code %(code)s.",
                                         code=school_code))
        school_id = school.id
    password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    problems = password_problems(password)
    if problems:
        raise click.ClickException(" ".join(str(p) for p in problems))
    user = User(email=email, name=name or email, role=Role(role), school_id=school_id)
    user.set_password(password)
    token = actor_override.set((None, "create-user"))
    try:
        db.session.add(user)
        db.session.commit()
    finally:
        actor_override.reset(token)
    click.echo(_("Created %(role)s %(email)s.", role=Role(role).label, email=email))

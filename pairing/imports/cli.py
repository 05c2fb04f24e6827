"""``flask import schools|partners|pairings|activities FILE`` and ``flask export FILE``.

Thin wrappers around the same reader, planner and writer the web import uses. The schools
command also takes the Ministry of Education's directories (recognised by their columns);
``--level`` names the level when the file does not make it clear.
Exit status: 0 when every row was fine, 1 when the file or any row had an error (with
``--only-valid`` the valid rows are still imported).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..audit.tracking import actor_override
from ..common.enums import Level
from ..extensions import db
from . import export
from .readers import FileProblem, read_table
from .service import Plan, apply_plan, build_plan
from .specs import KINDS, SHEET_NAMES


def _print_plan(plan: Plan) -> None:
    click.echo(f"File: {plan.filename} ({plan.encoding})")
    if plan.format == "ministry":
        click.echo(f"Ministry of Education directory, level: {plan.level.value}")
    counts = plan.counts
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))
    for error in plan.errors:
        value = "" if error.value is None else error.value
        click.echo(f"row {error.row}, {error.column}, {value!r}: {error.reason}", err=True)
    for code, name in plan.missing:
        click.echo(f"not in file: {code} {name}")


def _run(kind: str, path: str, level: str | None, dry_run: bool, only_valid: bool) -> None:
    file = Path(path)
    token = actor_override.set((None, f"cli import {kind}"))
    try:
        try:
            table = read_table(file.read_bytes(), sheet_names=SHEET_NAMES[kind])
            plan = build_plan(db.session, kind, table, file.name,
                              jurisdiction=current_app.config["JURISDICTION"], level=level)
        except FileProblem as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        _print_plan(plan)
        invalid = plan.counts["invalid"]
        if dry_run:
            db.session.rollback()
            click.echo("Dry run: nothing was changed.")
        elif invalid and not only_valid:
            db.session.rollback()
            click.echo(f"{invalid} invalid rows: nothing was imported "
                       "(fix them, or use --only-valid).", err=True)
        else:
            with click.progressbar(length=len(plan.rows), label="Importing") as bar:
                try:
                    apply_plan(db.session, plan, only_valid=only_valid, progress=bar.update)
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    raise
            click.echo(f"Imported: {plan.counts['new']} new, {plan.counts['changed']} changed.")
        if invalid:
            raise SystemExit(1)
    finally:
        actor_override.reset(token)


#: AppGroup (a click.Group) runs each subcommand inside the application context.
import_group = AppGroup("import", help="Import CSV or XLSX files (the same formats as the "
                                       "web import).")


def _common(func):
    func = click.option("--only-valid", is_flag=True,
                        help="Import the valid rows even when others are invalid.")(func)
    func = click.option("--dry-run", is_flag=True,
                        help="Show the counts and errors; change nothing.")(func)
    return click.argument("file", type=click.Path(exists=True, dir_okay=False))(func)


@import_group.command("schools")
@_common
@click.option("--level", type=click.Choice([lv.value for lv in Level]), default=None,
              help="Level of a Ministry of Education directory (else recognised).")
def import_schools(file: str, dry_run: bool, only_valid: bool, level: str | None) -> None:
    """Schools: the department's template or a Ministry of Education directory."""
    _run("schools", file, level, dry_run, only_valid)


@import_group.command("partners")
@_common
def import_partners(file: str, dry_run: bool, only_valid: bool) -> None:
    """Partner schools (matched on name, country and city)."""
    _run("partners", file, None, dry_run, only_valid)


@import_group.command("pairings")
@_common
def import_pairings(file: str, dry_run: bool, only_valid: bool) -> None:
    """Pairings (matched on school code and partner school)."""
    _run("pairings", file, None, dry_run, only_valid)


@import_group.command("activities")
@_common
def import_activities(file: str, dry_run: bool, only_valid: bool) -> None:
    """Activities (matched on pairing, start date and title)."""
    _run("activities", file, None, dry_run, only_valid)


@click.command("export")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Only this list (CSV or XLSX by the file's extension).")
@click.option("--headers", "language", type=click.Choice(["zh", "en"]), default="zh",
              help="Header language (both are accepted on import).")
def export_command(file: str, kind: str | None, language: str) -> None:
    """Write every record to FILE.xlsx (one sheet per kind), re-importable as it is."""
    path = Path(file)
    if kind is None:
        if path.suffix.lower() != ".xlsx":
            raise click.ClickException("The full export is an .xlsx workbook.")
        body, counts = export.full_workbook(db.session, language)
        summary = ", ".join(f"{k}: {v}" for k, v in counts.items())
    else:
        objs = export.records(db.session, kind)
        data = export.rows(db.session, kind, objs)
        header = export.headers(kind, language)
        body = (export.to_csv(header, data) if path.suffix.lower() == ".csv"
                else export.to_xlsx(kind, header, data))
        summary = f"{kind}: {len(objs)}"
    db.session.rollback()
    path.write_bytes(body)
    click.echo(f"Wrote {path} ({summary}).")

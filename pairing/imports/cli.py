"""``flask import cities|schools|partners|pairings|activities FILE`` and ``flask export FILE``.

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
from flask_babel import gettext as _

from ..audit.tracking import actor_override
from ..common.enums import Level
from ..extensions import db
from . import export
from .readers import FileProblem, read_table
from .service import ACTIONS, Plan, apply_plan, build_plan
from .specs import KINDS, SHEET_NAMES


def _print_plan(plan: Plan) -> None:
    click.echo(_("File: %(name)s (%(encoding)s)", name=plan.filename, encoding=plan.encoding))
    if plan.format == "ministry":
        click.echo(_("Ministry of Education directory, level: %(level)s",
                     level=plan.level.label))
    counts = plan.counts
    click.echo(_("new: %(new)s, changed: %(changed)s, unchanged: %(unchanged)s, "
                 "skipped: %(skipped)s, invalid: %(invalid)s",
                 **{k: counts[k] for k in ACTIONS}))
    if counts.get("missing"):
        click.echo(_("missing from the file: %(num)s", num=counts["missing"]))
    for error in plan.errors:
        value = "" if error.value is None else error.value
        click.echo(_("row %(row)s, %(column)s, %(value)s: %(reason)s", row=error.row,
                     column=error.column, value=repr(value), reason=error.reason), err=True)
    for code, name in plan.missing:
        click.echo(_("not in file: %(code)s %(name)s", code=code, name=name))


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
            click.echo(_("Dry run: nothing was changed."))
        elif invalid and not only_valid:
            db.session.rollback()
            click.echo(_("%(num)s invalid rows: nothing was imported "
                         "(fix them, or use --only-valid).", num=invalid), err=True)
        else:
            with click.progressbar(length=len(plan.rows), label=_("Importing")) as bar:
                try:
                    apply_plan(db.session, plan, only_valid=only_valid, progress=bar.update)
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    raise
            click.echo(_("Imported: %(new)s new, %(changed)s changed.",
                         new=plan.counts["new"], changed=plan.counts["changed"]))
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


@import_group.command("cities")
@_common
def import_cities(file: str, dry_run: bool, only_valid: bool) -> None:
    """Partner cities (matched on name, country and region)."""
    _run("cities", file, None, dry_run, only_valid)


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
            raise click.ClickException(_("The full export is an .xlsx workbook."))
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
    click.echo(_("Wrote %(path)s (%(summary)s).", path=str(path), summary=summary))

"""Import in two steps (upload, preview, confirm), templates, and list exports.

Between the steps the parsed file waits on the server (instance/imports/<token>.json, tied to
the user who uploaded it); the browser only carries the random token, so nothing the client
sends back can change what is imported.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import date
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..accounts.permissions import any_signed_in, staff_required
from ..extensions import db
from . import export
from .forms import TOKEN_PATTERN, ConfirmForm, UploadForm
from .readers import FileProblem, Table, read_table
from .service import PREVIEW_NEW_ROWS, ImportRefused, apply_plan, build_plan
from .specs import COLUMNS, KIND_LABELS, KINDS, SHEET_NAMES

bp = Blueprint("imports", __name__, url_prefix="/imports")

STORE_SECONDS = 24 * 3600


def _store_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store(payload: dict) -> str:
    store = _store_dir()
    now = time.time()
    for old in store.glob("*.json"):  # forget abandoned previews
        if now - old.stat().st_mtime > STORE_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (store / f"{token}.json").write_text(json.dumps(payload, ensure_ascii=False),
                                         encoding="utf-8")
    return token


def _load(token: str) -> dict:
    if not re.match(TOKEN_PATTERN, token or ""):
        abort(404)
    path = _store_dir() / f"{token}.json"
    if not path.exists():
        abort(404)
    payload = json.loads(path.read_text(encoding="utf-8"))
    if payload.get("user_id") != current_user.id:
        abort(404)
    return payload


def _plan(payload: dict):
    return build_plan(db.session, payload["kind"], Table.from_json(payload["table"]),
                      payload["filename"], jurisdiction=current_app.config["JURISDICTION"],
                      level=payload.get("level") or None)


def _index(form: UploadForm, problem: str | None = None, status: int = 200):
    return render_template("imports/index.html", form=form, problem=problem, kinds=KINDS,
                           kind_labels=KIND_LABELS, columns=COLUMNS), status


@bp.route("/")
@staff_required
def index():
    return _index(UploadForm())


@bp.errorhandler(413)
def too_large(error):
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _index(UploadForm(formdata=None),
                  _("The file is larger than the limit of %(mb)s MB.",
                    mb=round(limit / 1024 / 1024, 1)), 413)


@bp.route("/upload", methods=["POST"])
@staff_required
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _index(form, status=422)
    kind = form.kind.data
    filename = Path(form.file.data.filename or "upload").name[:200]
    data = form.file.data.read()
    try:
        table = read_table(data, sheet_names=SHEET_NAMES[kind],
                           max_bytes=current_app.config.get("MAX_CONTENT_LENGTH"))
        payload = {"user_id": current_user.id, "kind": kind, "filename": filename,
                   "level": form.level.data or None, "only_valid": bool(form.only_valid.data),
                   "table": table.to_json()}
        _plan(payload)  # a file-level problem is reported now, not after the redirect
    except FileProblem as exc:
        db.session.rollback()
        return _index(form, str(exc), 422)
    token = _store(payload)
    return redirect(url_for("imports.preview", token=token))


@bp.route("/preview/<token>")
@staff_required
def preview(token: str):
    payload = _load(token)
    try:
        plan = _plan(payload)
    except FileProblem as exc:
        db.session.rollback()
        return _index(UploadForm(formdata=None), str(exc), 422)
    db.session.rollback()  # planning never writes; leave nothing open
    return render_template("imports/preview.html", plan=plan, payload=payload,
                           form=ConfirmForm(token=token), kind_label=KIND_LABELS[plan.kind],
                           shown_new=PREVIEW_NEW_ROWS)


@bp.route("/confirm", methods=["POST"])
@staff_required
def confirm():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data
    payload = _load(token)
    try:
        plan = _plan(payload)
        counts = apply_plan(db.session, plan, only_valid=payload.get("only_valid", False))
        db.session.commit()
    except (ImportRefused, FileProblem) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("imports.preview", token=token))
    except (IntegrityError, SQLAlchemyError) as exc:
        db.session.rollback()
        current_app.logger.warning("import failed: %s", exc)
        flash(_("The import failed and nothing was changed: %(error)s",
                error=str(getattr(exc, "orig", exc))[:300]), "danger")
        return redirect(url_for("imports.preview", token=token))
    (_store_dir() / f"{token}.json").unlink(missing_ok=True)
    flash(_("Imported %(file)s: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, "
            "%(skipped)s skipped, %(invalid)s invalid rows not imported.",
            file=payload["filename"], **{k: counts[k] for k in
                                          ("new", "changed", "unchanged", "skipped",
                                           "invalid")}), "success")
    return redirect(url_for("imports.index"))


@bp.route("/template/<kind>.xlsx")
@staff_required
def template(kind: str):
    if kind not in KINDS:
        abort(404)
    return _download(export.template(kind, export.header_language()),
                     f"template-{kind}.xlsx", "xlsx")


def _download(data: bytes, filename: str, fmt: str) -> Response:
    mimetype = ("text/csv; charset=utf-8" if fmt == "csv" else
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/export/<kind>")
@any_signed_in
def export_list(kind: str):
    """The list with its current filters (the list page's query string) as CSV or XLSX."""
    if kind not in KINDS:
        abort(404)
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        abort(400)
    params = {k: v for k, v in request.args.items() if k != "format"}
    objs = export.records(db.session, kind, params)
    language = export.header_language()
    data = export.rows(db.session, kind, objs)
    header = export.headers(kind, language)
    body = export.to_csv(header, data) if fmt == "csv" else export.to_xlsx(kind, header, data)
    return _download(body, f"{kind}-{date.today().isoformat()}.{fmt}", fmt)


@bp.route("/export-all.xlsx")
@staff_required
def export_all():
    """Every partner city, school, partner school, pairing and activity: one re-importable
    workbook."""
    body, _counts = export.full_workbook(db.session, export.header_language())
    return _download(body, f"pairing-export-{date.today().isoformat()}.xlsx", "xlsx")

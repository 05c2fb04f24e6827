"""The progress dashboard, its CSV downloads and the goal settings page (thin views)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.permissions import admin_required
from ..common.enums import Level, Role
from ..common.web import CSP
from ..extensions import db
from ..schools.models import District
from . import cache, charts, progress
from .forms import DashboardFilterForm, SettingsForm
from .settings import GoalSettings, load_settings, save_settings
from .status import local_today

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

DASHBOARD_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
if DASHBOARD_CSP == CSP or "script-src 'self';" not in DASHBOARD_CSP:  # pragma: no cover
    raise RuntimeError("The dashboard's CSP must relax style-src only.")


def signed_in_or_public_dashboard(view):
    """Every signed-in role; anonymous visitors too when PUBLIC_DASHBOARD is on.

    (``guard_anonymous`` lets these endpoints through only in that case; this decorator keeps
    the rule visible on the view.)
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated and not current_app.config.get("PUBLIC_DASHBOARD"):
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapped.allowed_roles = tuple(Role)
    return wrapped


def _parse_filters() -> tuple[DashboardFilterForm, progress.Filters, date]:
    """Read the filters from the query string; values that are not valid choices are ignored."""
    form = DashboardFilterForm(request.args)
    districts = db.session.execute(
        select(District.id, District.county, District.name_zh, District.name_en)
        .order_by(District.county, District.postal_code, District.name_zh)
    ).all()
    several = len({d[1] for d in districts}) > 1
    loc = get_locale()
    form.set_choices(districts, several, english=loc is not None and loc.language == "en")
    form.validate()
    district = form.valid_value("district")
    level = form.valid_value("level")
    ownership = form.valid_value("ownership")
    filters = progress.Filters(
        district_id=int(district) if district else None,
        county=form.valid_value("county"),
        level=Level(level) if level else None,
        public={"public": True, "private": False}.get(ownership or ""),
    )
    on_date = form.on.data if (form.on.data and not form.on.errors) else local_today()
    return form, filters, on_date


def _script_json(text: str) -> str:
    """JSON that is safe inside <script type="application/json">."""
    return text.replace("</", "<\\/")


def _dashboard(on_date, filters, settings) -> progress.Dashboard:
    """The metrics, from the cache when no committed write happened since they were made."""
    return cache.cached(db.session, ("metrics", on_date, filters, settings),
                        lambda: progress.dashboard(db.session, on_date, filters, settings))


@bp.route("/")
@signed_in_or_public_dashboard
def index():
    form, filters, on_date = _parse_filters()
    settings = load_settings(db.session)
    dash = _dashboard(on_date, filters, settings)
    figures = cache.cached(
        db.session, ("figures", on_date, filters, settings, str(get_locale())),
        lambda: {cid: _script_json(j) for cid, j in charts.build_charts(dash).items()})
    plotly_config = _script_json(json.dumps(charts.plotly_locale(), ensure_ascii=False))
    args = filters.as_args()
    if request.args.get("on"):
        args["on"] = on_date.isoformat()
    response = make_response(render_template(
        "dashboard/index.html", form=form, dash=dash, figures=figures, chart_specs=charts.CHARTS,
        plotly_config=plotly_config, filter_args=args,
        several_counties=len({d["county"] for d in dash.districts}) > 1,
        show_links=current_user.is_authenticated, list_limit=progress.LIST_LIMIT,
        dash_on_past_date=on_date != local_today(),
    ))
    # plotly.js styles its mode bar and hover labels by inserting <style> elements at run time,
    # which a strict style-src blocks; allow inline styles on this page only. script-src stays
    # 'self' (no inline script anywhere). security_headers() keeps a header a view has set.
    response.headers["Content-Security-Policy"] = DASHBOARD_CSP
    return response


@bp.route("/<chart_id>.csv")
@signed_in_or_public_dashboard
def chart_csv(chart_id: str):
    spec = charts.CHARTS.get(chart_id)
    if spec is None:
        abort(404)
    _form, filters, on_date = _parse_filters()
    dash = _dashboard(on_date, filters, load_settings(db.session))
    headers, rows = spec.table(dash)
    buf = io.StringIO()
    buf.write("\ufeff")  # BOM: Excel opens UTF-8 (Chinese names) correctly
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    response = Response(buf.getvalue().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{charts.csv_filename(chart_id, dash)}"')
    return response


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    current = load_settings(db.session)
    form = SettingsForm()
    if request.method == "GET":
        form.target_date.data = current.target_date
        form.target_share.data = Decimal(str(round(current.target_share * 100, 1)))
        form.baseline_date.data = current.baseline_date
        form.dormancy_months.data = current.dormancy_months
    if form.validate_on_submit():
        new = GoalSettings(
            target_date=form.target_date.data,
            target_share=float(form.target_share.data) / 100,
            baseline_date=form.baseline_date.data,
            dormancy_months=form.dormancy_months.data,
        )
        try:
            save_settings(db.session, new)
            db.session.commit()
        except (IntegrityError, StaleDataError):
            db.session.rollback()
            form.form_errors.append(_("Someone else saved the settings at the same time. "
                                      "Check the values and save again."))
            return render_template("dashboard/settings.html", form=form, current=current), 409
        flash(_("Settings saved. The dashboard uses them from now on."), "success")
        return redirect(url_for("dashboard.settings"))
    status = 422 if form.errors else 200
    return render_template("dashboard/settings.html", form=form, current=current), status

"""The global audit trail page (staff and admins). Read-only: no route edits or deletes rows."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from wtforms import DateField, SearchField, SelectField
from wtforms.validators import Length, Optional

from ..accounts.forms import select_choices
from ..accounts.permissions import staff_required
from ..common.lists import paginate
from .queries import ACTIONS, ENTITY_TYPES, audit_query

bp = Blueprint("audit", __name__, url_prefix="/audit")

# Detail pages by record type: (endpoint, URL parameter); tried in order, skipped if missing.
DETAIL_ENDPOINTS = {
    "school": [("schools.detail", "school_id")],
    "partner_school": [("partners.detail", "partner_id"), ("partners.detail", "partner_school_id")],
    "partner_city": [("partners.city_detail", "city_id"), ("partners.city", "city_id")],
    "pairing": [("pairings.detail", "pairing_id")],
    "activity": [("pairings.activity_detail", "activity_id"), ("pairings.activity", "activity_id")],
    "user": [("users.detail", "user_id")],
}


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user = SearchField(_l("User e-mail"), validators=[Optional(), Length(max=254)])
    entity_type = SelectField(_l("Record type"),
                              choices=lambda: select_choices([("", _l("All types")),
                                                              *ENTITY_TYPES.items()]),
                              validators=[Optional()])
    action = SelectField(_l("Action"),
                         choices=lambda: select_choices([("", _l("All actions")),
                                                         *ACTIONS.items()]),
                         validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


def record_url(row) -> str | None:
    """A link to the record's detail page, when that page exists."""
    if row.entity_id is None or row.action == "delete":
        return None
    for endpoint, param in DETAIL_ENDPOINTS.get(row.entity_type or "", []):
        try:
            return url_for(endpoint, **{param: row.entity_id})
        except BuildError:
            continue
    return None


@bp.route("/")
@staff_required
def index():
    form = AuditFilterForm(request.args)
    form.validate()  # bad values are shown as field errors and ignored
    stmt = audit_query(
        user=form.user.data,
        entity_type=form.entity_type.data if form.entity_type.data in ENTITY_TYPES else None,
        action=form.action.data if form.action.data in ACTIONS else None,
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
    )
    page = paginate(stmt)
    return render_template("audit/index.html", page=page, filters=form, record_url=record_url,
                           entity_types=ENTITY_TYPES, actions=ACTIONS)

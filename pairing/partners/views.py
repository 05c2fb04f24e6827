"""Partner schools and partner cities: lists and detail pages for everyone signed in;
create, edit and delete for staff and admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.permissions import any_signed_in, is_staff, staff_required
from ..audit.queries import history_for
from ..common.lists import paginate_rows
from ..extensions import db
from ..schools.forms import ConfirmDeleteForm
from ..schools.service import save_form
from ..schools.views import form_status
from . import service
from .forms import CityFilterForm, PartnerCityForm, PartnerFilterForm, PartnerSchoolForm
from .models import PartnerCity, PartnerSchool

bp = Blueprint("partners", __name__, url_prefix="/partners")

DUPLICATE_PARTNER = _l("A partner school with this name already exists in this city and "
                       "country.")
DUPLICATE_CITY = _l("This partner city already exists (same name, country and region).")


def _get_or_404(model, record_id: int):
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    return record


def _refused(form) -> None:
    form.form_errors.append(_("The database refused the change (a rule such as a unique "
                              "value was broken). Nothing was saved."))


# --- partner schools -----------------------------------------------------------------------

@bp.route("/")
@any_signed_in
def index():
    form = PartnerFilterForm(formdata=request.args,
                             countries=service.countries_in_use(PartnerSchool.country),
                             cities=service.all_cities())
    page = paginate_rows(service.partner_list_query(request.args))
    filtered = any(request.args.get(k) for k in service.PARTNER_FILTER_KEYS)
    return render_template("partners/index.html", form=form, page=page, filtered=filtered)


@bp.route("/<int:partner_id>")
@any_signed_in
def detail(partner_id: int):
    partner = service.get_partner_detail(partner_id)
    if partner is None:
        abort(404)
    history = history_for("partner_school", partner.id) if is_staff() else None
    pairings = sorted(partner.pairings, key=lambda p: (p.status.value == "ended",
                                                       p.school.code))
    return render_template("partners/detail.html", partner=partner, pairings=pairings,
                           history=history)


def _save_unique(record, form, fields, taken: bool, duplicate: str, new: bool):
    """Save a partner school or city form. Returns (saved, conflicts).

    A duplicate name is refused before saving and again if the database's unique constraint
    refuses it; a stale version returns the conflicts to show.
    """
    if taken:
        form.name.errors.append(duplicate)
        return False, None
    result = save_form(record, form, fields, new=new)
    if result.saved:
        return True, None
    if result.conflicts is not None:
        form.version.data = record.version
        return False, result.conflicts
    if "name" in (result.integrity_error or ""):
        form.name.errors.append(duplicate)
    else:
        _refused(form)
    return False, None


def _save_partner(partner: PartnerSchool, form: PartnerSchoolForm, new: bool):
    taken = service.partner_school_taken(form.name.data, form.country.data, form.city.data,
                                         exclude_id=None if new else partner.id)
    return _save_unique(partner, form, service.PARTNER_FIELDS, taken, DUPLICATE_PARTNER, new)


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = PartnerSchoolForm(cities=service.all_cities())
    if request.method == "GET" and request.args.get("partner_city"):
        form.partner_city_id.data = service.parse_int(request.args["partner_city"])
    if form.validate_on_submit():
        partner = PartnerSchool()
        saved, _conflicts = _save_partner(partner, form, new=True)
        if saved:
            flash(_("Partner school %(name)s created.", name=partner.name), "success")
            return redirect(url_for(".detail", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=None), form_status()


@bp.route("/<int:partner_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(partner_id: int):
    partner = _get_or_404(PartnerSchool, partner_id)
    form = PartnerSchoolForm(obj=partner, cities=service.all_cities())
    conflicts = None
    if form.validate_on_submit():
        saved, conflicts = _save_partner(partner, form, new=False)
        if saved:
            flash(_("Partner school %(name)s saved.", name=partner.name), "success")
            return redirect(url_for(".detail", partner_id=partner.id))
    return (render_template("partners/form.html", form=form, partner=partner,
                            conflicts=conflicts), form_status(conflicts))


@bp.route("/<int:partner_id>/delete", methods=["GET", "POST"])
@staff_required
def delete(partner_id: int):
    partner = _get_or_404(PartnerSchool, partner_id)
    form = ConfirmDeleteForm()
    reason = service.partner_delete_refusal(partner)
    if request.method == "POST" and not reason:
        if not form.validate_on_submit():
            abort(400)
        name = partner.name
        reason = service.delete_record(partner, None)
        if not reason:
            flash(_("Partner school %(name)s deleted.", name=name), "success")
            return redirect(url_for(".index"))
    status = 409 if (reason and request.method == "POST") else 200
    return render_template("partners/delete.html", record=partner, name=partner.name,
                           form=form, reason=reason,
                           back_url=url_for(".detail", partner_id=partner.id),
                           action=url_for(".delete", partner_id=partner.id)), status


# --- partner cities ------------------------------------------------------------------------

@bp.route("/cities")
@any_signed_in
def cities():
    form = CityFilterForm(formdata=request.args,
                          countries=service.countries_in_use(PartnerCity.country))
    page = paginate_rows(service.city_list_query(request.args))
    filtered = any(request.args.get(k) for k in service.CITY_FILTER_KEYS)
    return render_template("partners/cities.html", form=form, page=page, filtered=filtered)


@bp.route("/cities/<int:city_id>")
@any_signed_in
def city_detail(city_id: int):
    city = _get_or_404(PartnerCity, city_id)
    schools = db.session.execute(
        service.partner_list_query({"partner_city": str(city.id)})).all()
    history = history_for("partner_city", city.id) if is_staff() else None
    return render_template("partners/city_detail.html", city=city, schools=schools,
                           history=history)


def _save_city(city: PartnerCity, form: PartnerCityForm, new: bool):
    taken = service.city_taken(form.name.data, form.country.data, form.region.data,
                               exclude_id=None if new else city.id)
    return _save_unique(city, form, service.CITY_FIELDS, taken, DUPLICATE_CITY, new)


@bp.route("/cities/new", methods=["GET", "POST"])
@staff_required
def city_new():
    form = PartnerCityForm()
    if form.validate_on_submit():
        city = PartnerCity()
        saved, _conflicts = _save_city(city, form, new=True)
        if saved:
            flash(_("Partner city %(name)s created.", name=city.name), "success")
            return redirect(url_for(".city_detail", city_id=city.id))
    return render_template("partners/city_form.html", form=form, city=None), form_status()


@bp.route("/cities/<int:city_id>/edit", methods=["GET", "POST"])
@staff_required
def city_edit(city_id: int):
    city = _get_or_404(PartnerCity, city_id)
    form = PartnerCityForm(obj=city)
    conflicts = None
    if form.validate_on_submit():
        saved, conflicts = _save_city(city, form, new=False)
        if saved:
            flash(_("Partner city %(name)s saved.", name=city.name), "success")
            return redirect(url_for(".city_detail", city_id=city.id))
    return (render_template("partners/city_form.html", form=form, city=city,
                            conflicts=conflicts), form_status(conflicts))


@bp.route("/cities/<int:city_id>/delete", methods=["GET", "POST"])
@staff_required
def city_delete(city_id: int):
    city = _get_or_404(PartnerCity, city_id)
    form = ConfirmDeleteForm()
    reason = service.city_delete_refusal(city)
    if request.method == "POST" and not reason:
        if not form.validate_on_submit():
            abort(400)
        name = city.name
        reason = service.delete_record(city, None)
        if not reason:
            flash(_("Partner city %(name)s deleted.", name=name), "success")
            return redirect(url_for(".cities"))
    status = 409 if (reason and request.method == "POST") else 200
    return render_template("partners/delete.html", record=city, name=city.name, form=form,
                           reason=reason, back_url=url_for(".city_detail", city_id=city.id),
                           action=url_for(".city_delete", city_id=city.id)), status

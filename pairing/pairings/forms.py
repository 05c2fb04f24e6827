"""Forms for pairings and activities, and the GET filter forms of their lists."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..common.enums import ActivityMode, ActivityType, Level, PairingStatus
from ..common.i18n import country_name, county_name
from ..extensions import db
from ..partners.models import PartnerCity, PartnerSchool
from ..schools.forms import DistrictSelectField
from ..schools.models import District


def _strip_or_none(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _strip_upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def partner_school_choices() -> list[tuple[int, str]]:
    """Every partner school as 'name (city, country)', sorted by name."""
    rows = db.session.execute(
        select(PartnerSchool.id, PartnerSchool.name, PartnerSchool.city, PartnerSchool.country)
        .order_by(PartnerSchool.name, PartnerSchool.id)
    ).all()
    out = []
    for pid, name, city, country in rows:
        where = ", ".join(p for p in (city, country_name(country)) if p)
        out.append((pid, f"{name} ({where})" if where else name))
    return out


class PairingForm(FlaskForm):
    """Create or edit a pairing. The view limits ``status.choices`` to the user's role."""

    school_code = StringField(
        _l("School code"), filters=[_strip_upper],
        validators=[DataRequired(message=_l("Enter the school's six-character code.")),
                    Length(min=6, max=6, message=_l("A school code has six characters."))],
        description=_l("The Ministry of Education code of the local school, e.g. 014501."),
    )
    partner_school_id = SelectField(
        _l("Partner school"), coerce=_optional_int,
        validators=[InputRequired(message=_l("Choose a partner school."))],
    )
    status = SelectField(_l("Status"), coerce=PairingStatus, default=PairingStatus.PROPOSED)
    effective_on = DateField(
        _l("Status effective date"), validators=[Optional()], default=date.today,
        description=_l("When a status change took effect (not used for the first activation, "
                       "which takes the signing date, nor for ending, which takes the end "
                       "date)."),
    )
    signed_on = DateField(_l("Signed on"), validators=[Optional()],
                          description=_l("Required once the pairing is active."))
    start_on = DateField(_l("Starts on"), validators=[Optional()])
    end_on = DateField(_l("Expires or renews on"), validators=[Optional()])
    ended_on = DateField(_l("Ended on"), validators=[Optional()],
                         description=_l("Only for an ended pairing."))
    focus_areas = StringField(_l("Focus areas"), filters=[_strip_or_none],
                              validators=[Optional(), Length(max=300)],
                              description=_l("For example: languages, science, culture."))
    coordinator = StringField(_l("Local coordinator"), filters=[_strip_or_none],
                              validators=[Optional(), Length(max=120)])
    notes = TextAreaField(_l("Notes"), filters=[_strip_or_none],
                          validators=[Optional(), Length(max=5000)])
    version = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_school_id.choices = [("", _l("Choose a partner school…")),
                                          *partner_school_choices()]
        self.status.choices = PairingStatus.choices()


class ActivityForm(FlaskForm):
    title = StringField(_l("Title"), filters=[_strip_or_none],
                        validators=[DataRequired(message=_l("Enter a title.")), Length(max=200)])
    type = SelectField(_l("Type"), coerce=ActivityType, choices=ActivityType.choices,
                       default=ActivityType.VIRTUAL)
    mode = SelectField(_l("Mode"), coerce=ActivityMode, choices=ActivityMode.choices,
                       default=ActivityMode.VIRTUAL)
    start_on = DateField(_l("Start date"), default=date.today,
                         validators=[InputRequired(message=_l("Enter the start date."))])
    end_on = DateField(_l("End date"), validators=[Optional()],
                       description=_l("Leave empty for a one-day activity."))
    local_students = IntegerField(
        _l("Local students"), default=0,
        validators=[InputRequired(message=_l("Enter a number (0 if none).")),
                    NumberRange(min=0, max=100000,
                                message=_l("Enter a whole number of 0 or more."))])
    local_teachers = IntegerField(
        _l("Local teachers"), default=0,
        validators=[InputRequired(message=_l("Enter a number (0 if none).")),
                    NumberRange(min=0, max=100000,
                                message=_l("Enter a whole number of 0 or more."))])
    partner_students = IntegerField(
        _l("Partner students"), default=0,
        validators=[InputRequired(message=_l("Enter a number (0 if none).")),
                    NumberRange(min=0, max=100000,
                                message=_l("Enter a whole number of 0 or more."))])
    partner_teachers = IntegerField(
        _l("Partner teachers"), default=0,
        validators=[InputRequired(message=_l("Enter a number (0 if none).")),
                    NumberRange(min=0, max=100000,
                                message=_l("Enter a whole number of 0 or more."))])
    description = TextAreaField(_l("Description"), filters=[_strip_or_none],
                                validators=[Optional(), Length(max=5000)])
    evidence_url = URLField(
        _l("Evidence link"), filters=[_strip_or_none],
        validators=[Optional(), Length(max=500),
                    URL(message=_l("Enter a full web address starting with http:// or "
                                   "https://."))],
        description=_l("A link to photos, a report or a news item."))
    version = HiddenField()

    def validate_end_on(self, field) -> None:
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError(_l("The end date cannot be before the start date."))

    def validate_evidence_url(self, field) -> None:
        if field.data and not field.data.lower().startswith(("http://", "https://")):
            raise ValidationError(_l("Enter a full web address starting with http:// or "
                                     "https://."))


class DeleteForm(FlaskForm):
    """The confirmation of a delete: carries the version the user saw."""

    version = HiddenField()


def _district_choices():
    """Districts in postal order; across several counties each carries its county's name
    (several cities have an 東區)."""
    rows = list(db.session.scalars(select(District).order_by(District.postal_code,
                                                             District.name_zh)))
    counties = {c: county_name(c) for c in {d.county for d in rows}}
    if len(counties) > 1:
        return [("", _l("All districts")),
                *((str(d.id), f"{counties[d.county]} {d.display_name}") for d in rows)]
    return [("", _l("All districts")), *((str(d.id), d.display_name) for d in rows)]


def _country_choices():
    codes = db.session.scalars(select(PartnerSchool.country).distinct())
    names = sorted(((c, country_name(c)) for c in codes if c), key=lambda kv: kv[1])
    return [("", _l("All countries")), *names]


def _partner_city_choices():
    rows = db.session.scalars(select(PartnerCity).order_by(PartnerCity.name))
    return [("", _l("All partner cities")), *((str(c.id), c.display_name) for c in rows)]


class PairingFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Search school or partner"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), validators=[Optional()],
                         choices=lambda: [("", _l("All statuses")), *PairingStatus.choices()])
    country = SelectField(_l("Partner country"), validators=[Optional()],
                          choices=_country_choices)
    partner_city = SelectField(_l("Partner city"), validators=[Optional()],
                               choices=_partner_city_choices)
    district = DistrictSelectField(_l("District"), validators=[Optional()],
                                   choices=_district_choices)
    level = SelectField(_l("Level"), validators=[Optional()],
                        choices=lambda: [("", _l("All levels")), *Level.choices()])
    signed_from = DateField(_l("Signed from"), validators=[Optional()])
    signed_to = DateField(_l("Signed to"), validators=[Optional()])


class ActivityFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Search title or school"), validators=[Optional(), Length(max=100)])
    type = SelectField(_l("Type"), validators=[Optional()],
                       choices=lambda: [("", _l("All types")), *ActivityType.choices()])
    mode = SelectField(_l("Mode"), validators=[Optional()],
                       choices=lambda: [("", _l("All modes")), *ActivityMode.choices()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    district = DistrictSelectField(_l("District"), validators=[Optional()],
                                   choices=_district_choices)
    country = SelectField(_l("Partner country"), validators=[Optional()],
                          choices=_country_choices)

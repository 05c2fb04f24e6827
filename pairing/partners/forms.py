"""Forms for partner cities and partner schools."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..common.enums import Level
from ..common.i18n import country_choices, valid_country
from ..schools.forms import (
    MultiCheckboxField,  # noqa: F401  (the levels checkboxes, via level_field)
    choices,
    email_field,
    level_field,
    optional_int,
    strip_or_none,
    strip_upper,
    text_field,
    website_field,
)


def country_field():
    # validate_choice=False: valid_country gives a clearer message than "Not a valid choice".
    return SelectField(_l("Country"), filters=[strip_upper], validate_choice=False,
                       validators=[DataRequired(message=_l("Choose a country."))])


def _check_country(field) -> None:
    offered = {choice.value for choice in field.choices if choice.value}
    if field.data and not (valid_country(field.data) and field.data in offered):
        raise ValidationError(_l("Choose a country from the list (a two-letter ISO code such "
                                 "as US or JP)."))


class PartnerCityForm(FlaskForm):
    name = text_field(_l("Name"), 120, required=True)
    name_zh = text_field(_l("Chinese name"), 120)
    country = country_field()
    region = text_field(_l("Region or state"), 120)
    signed_on = DateField(_l("Agreement signed on"), validators=[Optional()])
    twinned_on = DateField(_l("Twin city since"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), filters=[strip_or_none], validators=[Optional()])
    version = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = choices([("", _l("Choose…")), *country_choices()])

    def validate_country(self, field):
        _check_country(field)


class PartnerSchoolForm(FlaskForm):
    name = text_field(_l("Name"), 200, required=True)
    name_local = text_field(_l("Name in its own language"), 200)
    country = country_field()
    region = text_field(_l("Region or state"), 120)
    city = StringField(_l("City"), filters=[lambda v: v.strip() if isinstance(v, str) else ""],
                       validators=[Length(max=120)])
    levels = level_field()
    website = website_field()
    contact_name = text_field(_l("Contact person"), 120)
    contact_email = email_field(_l("Contact e-mail"))
    partner_city_id = SelectField(_l("Partner city (agreement)"), coerce=optional_int,
                                  description=_l("The city-level agreement this school sits "
                                                 "under, if any."))
    version = HiddenField()

    def __init__(self, *args, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = choices([("", _l("Choose…")), *country_choices()])
        self.levels.choices = choices(Level.choices())
        self.partner_city_id.choices = choices([("", _l("None"))] + [
            (c.id, f"{c.display_name} ({c.country_name})") for c in cities
        ])

    def validate_country(self, field):
        _check_country(field)


class CityFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    country = SelectField(_l("Country"), validate_choice=False)

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = choices([("", _l("All")), *countries])


class PartnerFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"))
    country = SelectField(_l("Country"), validate_choice=False)
    partner_city = SelectField(_l("Partner city"), validate_choice=False)
    level = SelectField(_l("Level"), validate_choice=False)

    def __init__(self, *args, countries=(), cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = choices([("", _l("All")), *countries])
        self.partner_city.choices = choices([("", _l("All")), ("none", _l("No partner city"))] + [
            (str(c.id), c.display_name) for c in cities
        ])
        self.level.choices = choices([("", _l("All")), *Level.choices()])

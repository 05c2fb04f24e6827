"""The dashboard's filter form (GET, no CSRF) and the admins' settings form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    NumberRange,
    Optional,
    ValidationError,
)

from ..common.enums import Level
from ..common.i18n import county_name
from ..schools.forms import DistrictSelectField


class DashboardFilterForm(FlaskForm):
    """Filters travel in the query string, so a filtered view can be shared as a link."""

    class Meta:
        csrf = False

    county = SelectField(_l("County or city"), default="")
    district = DistrictSelectField(_l("District"), default="")
    level = SelectField(_l("Level"), default="")
    ownership = SelectField(_l("Public or private"), default="")
    on = DateField(_l("As of"), validators=[Optional()])

    def set_choices(self, districts, several_counties: bool, english: bool) -> None:
        """``districts``: (id, county, name_zh, name_en) rows."""
        counties = {c: county_name(c) for c in sorted({d[1] for d in districts})}
        self.county.choices = [("", _l("All")), *counties.items()]
        # With a county chosen, only its districts are offered (and need no county name).
        chosen = (self.county.data if several_counties and self.county.data in counties
                  else None)
        if not several_counties:
            del self.county
        options = []
        for d_id, county, name_zh, name_en in districts:
            if chosen and county != chosen:
                continue
            name = name_en if english and name_en else name_zh
            label = f"{counties[county]} {name}" if several_counties and not chosen else name
            options.append((str(d_id), label))
        self.district.choices = [("", _l("All districts"))] + options
        self.level.choices = [("", _l("All levels"))] + Level.choices()
        self.ownership.choices = [("", _l("Public and private")), ("public", _l("Public")),
                                  ("private", _l("Private"))]

    def valid_value(self, name: str) -> str | None:
        """The field's value when it is one of its choices, else None (bad links are ignored)."""
        field = self._fields.get(name)
        if field is None or not field.data:
            return None
        return field.data if field.data in {str(v) for v, _label in field.choices} else None


class SettingsForm(FlaskForm):
    target_date = DateField(_l("Target date"), validators=[DataRequired()],
                            description=_l("The date by which every school should be paired."))
    target_share = DecimalField(
        _l("Target share (%)"), places=1,
        validators=[InputRequired(), NumberRange(min=1, max=100,
                                                message=_l("Enter a share from 1 to 100."))],
        description=_l("The share of open schools that should be paired at the target date."))
    baseline_date = DateField(
        _l("Baseline date"), validators=[DataRequired()],
        description=_l("Where the target path starts (the paired share on this date)."))
    dormancy_months = IntegerField(
        _l("Dormancy window (months)"),
        validators=[InputRequired(), NumberRange(min=1, max=60,
                                                message=_l("Enter 1 to 60 months."))],
        description=_l("An active pairing with no activity started within this many months "
                       "counts as dormant."))

    def validate_baseline_date(self, field) -> None:
        if field.data and self.target_date.data and field.data >= self.target_date.data:
            raise ValidationError(_l("The baseline date must be before the target date."))

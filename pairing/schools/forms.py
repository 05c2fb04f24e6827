"""Forms for local schools, and form pieces the partner forms share."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget, Select

from ..common.enums import Level
from ..common.i18n import county_name


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice rendered as checkboxes (templates/_forms.html knows this type)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __iter__(self):
        # "At least one" is the group's rule: no single checkbox is required.
        for option in super().__iter__():
            option.flags.required = False
            yield option


class QuickSelect(Select):
    """WTForms' ``Select`` with a fast path for plain options, same markup. A nation has
    thousands of districts, and the generic attribute builder per option cost more than the
    rest of a list page."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{escape(value)}">'
                      f"{escape(choice.label or choice.value)}</option>")


class DistrictSelectField(SelectField):
    """A district drop-down (long lists): renders with ``QuickSelect``."""

    widget = QuickSelect()


def strip_or_none(value):
    """Filter: trim text; an empty answer is stored as NULL."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def strip_upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants them (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


def to_bool(value) -> bool:
    return value in (True, "1", "true", "True", "on")


def optional_int(value):
    """Coerce for optional <select>s of ids: '' means none."""
    if value in (None, "", "None"):
        return None
    return int(value)


def level_field(label=None):
    return MultiCheckboxField(
        label or _l("Levels served"), coerce=Level,
        validators=[DataRequired(message=_l("Choose at least one level."))],
    )


_WEB_MESSAGE = _l("Enter a full web address starting with http:// or https://.")


def http_url(form, field) -> None:
    """A web address with an http(s) scheme and a host (no javascript: or other schemes)."""
    if not re.match(r"(?i)^https?://", field.data or ""):
        raise ValidationError(_WEB_MESSAGE)
    URL(message=_WEB_MESSAGE)(form, field)


def website_field(label=None):
    return URLField(label or _l("Website"), filters=[strip_or_none],
                    validators=[Optional(), Length(max=300), http_url])


def email_field(label):
    return StringField(label, filters=[strip_or_none],
                       validators=[Optional(), Length(max=254),
                                   Email(message=_l("Enter a valid e-mail address."))])


def text_field(label, max_len: int, required: bool = False):
    validators = [DataRequired(), Length(max=max_len)] if required else [Optional(),
                                                                          Length(max=max_len)]
    return StringField(label, filters=[strip_or_none], validators=validators)


class SchoolForm(FlaskForm):
    """Every field of a school: staff and admins."""

    code = StringField(
        _l("School code"), filters=[strip_upper],
        description=_l("The Ministry of Education code: six letters or digits, e.g. 014501."),
        validators=[DataRequired(),
                    Regexp(r"^[A-Z0-9]{6}$",
                           message=_l("The school code must be exactly 6 letters or digits."))],
    )
    name_zh = text_field(_l("Chinese name"), 120, required=True)
    name_en = text_field(_l("English name"), 200)
    district_id = DistrictSelectField(_l("District"), coerce=optional_int,
                              validators=[InputRequired(message=_l("Choose a district."))])
    levels = level_field()
    is_public = RadioField(_l("Public or private"), coerce=to_bool, default=True,
                           choices=choices([("1", _l("Public")), ("0", _l("Private"))]))
    address = text_field(_l("Address"), 300)
    phone = text_field(_l("Phone"), 40)
    website = website_field()
    principal_name = text_field(_l("Principal's name"), 80)
    principal_email = email_field(_l("Principal's e-mail"))
    enrolment = IntegerField(
        _l("Enrolment (students)"),
        validators=[Optional(),
                    NumberRange(min=0, message=_l("Enrolment cannot be negative."))],
    )
    closed_on = DateField(
        _l("Closed on"), validators=[Optional()],
        description=_l("Leave empty while the school is open. A closed school keeps its "
                       "history but no longer counts toward the goal."),
    )
    version = HiddenField()

    def __init__(self, *args, districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.district_id.choices = choices(
            [("", _l("Choose…"))] + [(d.id, d.display_name) for d in districts])
        self.levels.choices = choices(Level.choices())


class SchoolContactForm(FlaskForm):
    """What a principal may change on their own school: its contact details."""

    address = text_field(_l("Address"), 300)
    phone = text_field(_l("Phone"), 40)
    website = website_field()
    principal_name = text_field(_l("Principal's name"), 80)
    principal_email = email_field(_l("Principal's e-mail"))
    version = HiddenField()


class SchoolFilterForm(FlaskForm):
    """The GET filters above the school list (field names are the query-string keys)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), description=_l("Code, Chinese or English name"))
    county = SelectField(_l("County or city"), validate_choice=False)
    district = DistrictSelectField(_l("District"), validate_choice=False)
    level = SelectField(_l("Level"), validate_choice=False)
    sector = SelectField(_l("Public/private"), validate_choice=False,
                         choices=choices([("", _l("All")), ("public", _l("Public")),
                                          ("private", _l("Private"))]))
    paired = SelectField(_l("Paired"), validate_choice=False,
                         choices=choices([("", _l("All")), ("yes", _l("Paired")),
                                          ("no", _l("Not yet paired"))]))
    state = SelectField(_l("Open/closed"), validate_choice=False,
                        choices=choices([("", _l("All")), ("open", _l("Open")),
                                         ("closed", _l("Closed"))]))

    def __init__(self, *args, districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        counties = {c: county_name(c) for c in sorted({d.county for d in districts})}
        if len(counties) > 1:
            # A whole country: choose the county first; its districts follow. Until then
            # each district carries its county (several cities have an 東區).
            self.county.choices = choices([("", _l("All")), *counties.items()])
            chosen = self.county.data if self.county.data in counties else None
            if chosen:
                districts = [d for d in districts if d.county == chosen]
            options = [(str(d.id), d.display_name if chosen
                        else f"{counties[d.county]} {d.display_name}") for d in districts]
        else:
            del self.county
            options = [(str(d.id), d.display_name) for d in districts]
        self.district.choices = choices([("", _l("All")), *options])
        self.level.choices = choices([("", _l("All")), *Level.choices()])


class ConfirmDeleteForm(FlaskForm):
    """An empty form: the CSRF token of a delete confirmation."""

"""Sign-in, password and user-administration forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ..common.enums import Role
from .passwords import password_problems


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), filters=[_strip],
                       validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Sign in"))


def _password_rules(form, field) -> None:
    problems = password_problems(field.data or "")
    if problems:
        raise ValidationError(" ".join(str(p) for p in problems))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"),
                                 validators=[DataRequired(), Length(max=200), _password_rules])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(),
                                        EqualTo("new_password",
                                                message=_l("The two new passwords differ."))])

    def validate_new_password(self, field) -> None:
        if field.data and field.data == self.current_password.data:
            raise ValidationError(_l("Choose a password different from the current one."))


def select_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants them (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


def _role_choices():
    return select_choices(Role.choices())


class UserForm(FlaskForm):
    """Create or edit a user. The temporary password is only on the create form."""

    email = EmailField(_l("E-mail"), filters=[_strip],
                       validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=_role_choices, validators=[DataRequired()])
    school_code = StringField(
        _l("School code"), filters=[_strip], validators=[Optional(), Length(max=6)],
        description=_l("Principals only: the six-character Ministry of Education school code."),
    )
    active = BooleanField(_l("Active (may sign in)"), default=True)
    password = PasswordField(
        _l("Temporary password"), validators=[DataRequired(), Length(max=200), _password_rules],
        description=_l("The user must change it at the next sign-in."),
    )
    version = HiddenField()


class EditUserForm(UserForm):
    password = None


class FilterUsersForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Search e-mail or name"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"),
                       choices=lambda: select_choices([("", _l("All roles")), *Role.choices()]),
                       validators=[Optional()])
    active = SelectField(_l("Status"),
                         choices=lambda: select_choices([("", _l("All")), ("1", _l("Active")),
                                                         ("0", _l("Deactivated"))]),
                         validators=[Optional()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Temporary password"), validators=[DataRequired(), Length(max=200), _password_rules],
        description=_l("Give it to the user; they must change it at the next sign-in."),
    )


class ConfirmForm(FlaskForm):
    """An empty form: just the CSRF token, for confirmation pages."""

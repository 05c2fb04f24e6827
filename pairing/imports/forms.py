"""Upload and confirm forms for imports."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Regexp

from ..common.enums import Level
from .specs import KIND_LABELS, KINDS

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,64}$"


class UploadForm(FlaskForm):
    kind = SelectField(_l("What the file holds"),
                       choices=[SelectChoice(k, KIND_LABELS[k]) for k in KINDS],
                       default="schools", validators=[DataRequired()])
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired(_l("Choose a file."))],
                     description=_l("A Ministry of Education school directory (國民小學名錄, "
                                    "國民中學名錄, 高級中等學校名錄) is recognised by its "
                                    "columns when you choose Schools."))
    level = SelectField(_l("Level of a Ministry directory"),
                        choices=lambda: [SelectChoice("", _l("Recognise from the file"))]
                        + [SelectChoice(v, label) for v, label in Level.choices()],
                        default="")
    only_valid = BooleanField(_l("Import only the valid rows (skip the invalid ones)"))


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Regexp(TOKEN_PATTERN)])

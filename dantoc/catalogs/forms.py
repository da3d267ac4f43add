"""Forms of the catalogs domain: one class per user action."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..web.inputs import DateField, DecimalField, db_int
from . import queries
from .importer import KINDS

#: A service's field name → the form field that shows its message.
FIELD_ALIASES = {"to_unit": "to_code", "from_unit": "to_code", "parent": "parent_code"}


class GetForm(FlaskForm):
    """A filter read from the query string: no CSRF token, never "submitted"."""

    class Meta:
        csrf = False


class UnitFilterForm(GetForm):
    q = SearchField(_l("Search by name or code"), validators=[Optional(), Length(max=100)])
    level = SelectField(_l("Level"), validators=[Optional()], validate_choice=False)
    on = DateField(_l("Valid on"), validators=[Optional()],
                   description=_l("Leave empty to see every date."))

    def fill(self) -> UnitFilterForm:
        self.level.choices = [SelectChoice("", _l("All levels"))] + [
            SelectChoice(level.code, level.name) for level in queries.levels()]
        return self


class DateFilterForm(GetForm):
    on = DateField(_l("As on"), validators=[Optional()])


class TextFilterForm(GetForm):
    q = SearchField(_l("Search"), validators=[Optional(), Length(max=100)])


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)],
                       description=_l("Unique per date, e.g. 03388-001 for a village."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    unit_type = SelectField(_l("Unit type"), coerce=db_int, validators=[DataRequired()])
    parent_code = StringField(_l("Code of the parent unit"), validators=[Length(max=20)],
                              description=_l("The parent as it is on the start date."))
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_to = DateField(_l("Valid until (last day)"), validators=[Optional()])
    aliases = StringField(_l("Other spellings"), validators=[Length(max=300)],
                          description=_l("Separated by semicolons."))
    source = TextAreaField(_l("Source"), validators=[Length(max=2000)])
    is_sample = BooleanField(_l("Sample data (invented for illustration)"))

    def allow_unknown_start(self) -> None:
        """A reference unit whose start was not researched keeps it while the field is empty."""
        self.valid_from.validators = [Optional()]
        self.valid_from.flags.required = False
        self.valid_from.description = _l("Empty: valid since before our records.")

    def fill(self) -> UnitForm:
        self.unit_type.choices = [SelectChoice(t.id, t.name, optgroup=t.level.name)
                                  for t in queries.unit_types()]
        return self


class CloseUnitForm(FlaskForm):
    valid_to = DateField(_l("Last valid day"), validators=[DataRequired()])


class LineageForm(FlaskForm):
    kind = SelectField(_l("Kind of change"), choices=[
        SelectChoice("merge", _l("Merge")), SelectChoice("split", _l("Split")),
        SelectChoice("rename", _l("Rename")), SelectChoice("transfer", _l("Transfer"))])
    to_code = StringField(_l("Code of the later unit"), validators=[DataRequired(),
                                                                    Length(max=20)])
    effective_date = DateField(_l("Effective from"), validators=[DataRequired()])
    share = DecimalField(_l("Share (splits only, e.g. 0.4)"), places=None, max_digits=1,
                         validators=[Optional(), NumberRange(min=0, max=1)])
    legal_basis = StringField(_l("Legal basis"), validators=[Length(max=200)])


class ImportForm(FlaskForm):
    kind = SelectField(_l("Catalog"), choices=[
        SelectChoice("units", _l("Administrative units")),
        SelectChoice("ethnic_groups", _l("Ethnic groups")),
        SelectChoice("religions", _l("Religions"))], validators=[DataRequired()])
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])

    def validate_kind(self, field) -> None:
        if field.data not in KINDS:
            raise ValidationError(_l("Choose a catalog."))


class DepartmentForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])

"""Forms of the indicator screens. ``values()`` turns a validated form into service arguments;
select choices that come from the database are filled in by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..catalogs.models import AdminLevel, Department
from ..extensions import db
from ..web.inputs import DateField, DecimalField, IntegerField, db_int
from .models import (
    DESCRIPTION_FIELDS,
    CatalogueVersion,
    Disaggregation,
    FormStatus,
    Indicator,
    IndicatorGroup,
)
from .services import parse_choices

VALUE_TYPE_LABELS = {
    "integer": _l("Whole number"), "decimal": _l("Decimal number"), "percent": _l("Percent"),
    "yes_no": _l("Yes / no"), "choice": _l("Choice from a list"), "text": _l("Text"),
}
AGGREGATION_LABELS = {
    "sum": _l("Sum"), "average": _l("Average"), "min": _l("Minimum"), "max": _l("Maximum"),
    "none": _l("Not aggregated"),
}
PERIOD_TYPE_LABELS = {
    "month": _l("Month"), "quarter": _l("Quarter"), "half_year": _l("Half-year"),
    "year": _l("Year"), "custom": _l("Custom (with a cut-off date)"),
}
FORM_KIND_LABELS = {"bieu": _l("Report form (biểu)"), "phieu": _l("Questionnaire (phiếu)")}
STATUS_LABELS = {FormStatus.DRAFT: _l("draft"), FormStatus.PUBLISHED: _l("published"),
                 FormStatus.RETIRED: _l("retired")}
SEVERITY_LABELS = {"error": _l("Error: blocks submission"), "warning": _l("Warning only")}
NONE = 0  #: the "no value" option of optional selects


def options(pairs, optgroup: str | None = None) -> list[SelectChoice]:
    """Select options from (value, label) pairs (WTForms 3.3 deprecates plain tuples)."""
    return [SelectChoice(value, label, optgroup=optgroup) for value, label in pairs]


def _choices(labels: dict) -> list[SelectChoice]:
    return options(labels.items())


def _get(model, pk: int | None):
    return db.session.get(model, pk) if pk else None


class CatalogueVersionForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=30)],
                       description=_l("For example TT06-2025."))
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    legal_basis = StringField(_l("Legal basis and notes"), validators=[Length(max=300)])
    valid_from = DateField(_l("Valid from"), validators=[InputRequired()])
    valid_to = DateField(_l("Valid until (empty = still valid)"), validators=[Optional()])

    def values(self) -> dict:
        return {k: self.data[k] for k in ("code", "name", "legal_basis", "valid_from",
                                          "valid_to")}


class GroupForm(FlaskForm):
    catalogue_version = SelectField(_l("Catalogue version"), coerce=db_int)
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=300)])
    department = SelectField(_l("Owning department"), coerce=db_int)
    position = IntegerField(_l("Order"), validators=[Optional(), NumberRange(0, 999)])

    def values(self, *, with_version: bool = True) -> dict:
        values = {"code": self.code.data, "name": self.name.data,
                  "department": _get(Department, self.department.data),
                  "position": self.position.data}
        if with_version:
            values["catalogue_version"] = _get(CatalogueVersion, self.catalogue_version.data)
        return values


class IndicatorForm(FlaskForm):
    group = SelectField(_l("Indicator group"), coerce=db_int)
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40)],
                       description=_l("Letters without accents, digits and “_”; rules use it."))
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=300)])
    value_type = SelectField(_l("Value type"), choices=_choices(VALUE_TYPE_LABELS))
    aggregation = SelectField(_l("Aggregation upward"), choices=_choices(AGGREGATION_LABELS))
    unit_of_measure = StringField(_l("Unit of measure"), validators=[Length(max=50)])
    min_value = DecimalField(_l("Minimum"), places=None, validators=[Optional()])
    max_value = DecimalField(_l("Maximum"), places=None, validators=[Optional()])
    required = BooleanField(_l("An answer is required"))
    help_text = TextAreaField(_l("Help text"), validators=[Length(max=2000)])
    formula = TextAreaField(
        _l("Formula (derived indicator)"), validators=[Length(max=500)],
        description=_l("Leave empty for an indicator that is entered. A derived indicator is "
                       "computed from the totals of each unit, never entered: indicator codes, "
                       "numbers, + - * / and brackets. Example: "
                       "poor_households / households * 100"))
    choices = TextAreaField(_l("Choices, one per line"), validators=[Length(max=5000)],
                            description=_l("Write “code | label” or just the label."))
    disaggregations = SelectMultipleField(_l("Disaggregations"), coerce=db_int,
                                          widget=ListWidget(prefix_label=False),
                                          option_widget=CheckboxInput())
    # The Statistics Law's description of an indicator (Luật Thống kê 2015, Điều 3.10).
    concept = TextAreaField(_l("Concept"), validators=[Length(max=5000)])
    method = TextAreaField(_l("Method of calculation"), validators=[Length(max=5000)])
    main_breakdowns = StringField(_l("Main breakdowns"), validators=[Length(max=500)])
    publication_period = StringField(_l("Publication period"), validators=[Length(max=100)])
    data_source = StringField(_l("Data source"), validators=[Length(max=500)])
    responsible_agency = StringField(_l("Responsible agency"), validators=[Length(max=300)])

    def values(self) -> dict:
        """:raise FieldError: when the choices cannot be read."""
        chosen = [db.session.get(Disaggregation, pk) for pk in self.disaggregations.data or ()]
        return {
            "group": _get(IndicatorGroup, self.group.data), "code": self.code.data,
            "name": self.name.data, "value_type": self.value_type.data,
            "aggregation": self.aggregation.data, "unit_of_measure": self.unit_of_measure.data,
            "min_value": self.min_value.data, "max_value": self.max_value.data,
            "required": self.required.data, "help_text": self.help_text.data,
            "formula": self.formula.data,
            "choices": parse_choices(self.choices.data),
            "disaggregations": [d for d in chosen if d is not None],
            **{name: getattr(self, name).data for name in DESCRIPTION_FIELDS},
        }


class RuleForm(FlaskForm):
    catalogue_version = SelectField(_l("Catalogue version"), coerce=db_int)
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40)])
    expression = TextAreaField(
        _l("Rule"), validators=[InputRequired(), Length(max=500)],
        description=_l("Indicator codes, numbers, + - * /, comparisons (< <= > >= == !=), "
                       "and / or / not, sum() min() max() abs(). Example: "
                       "poor_households <= households"))
    message = StringField(_l("Message shown when the rule is broken"),
                          validators=[InputRequired(), Length(max=300)])
    severity = SelectField(_l("Severity"), choices=_choices(SEVERITY_LABELS))

    def values(self) -> dict:
        return {k: self.data[k] for k in ("code", "expression", "message", "severity")}


class FormForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=30)])
    kind = SelectField(_l("Kind"), choices=_choices(FORM_KIND_LABELS))
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=300)])
    legal_basis = StringField(_l("Legal basis"), validators=[Length(max=300)])
    catalogue_version = SelectField(_l("Catalogue version"), coerce=db_int)
    fill_level = SelectField(_l("Filled by units of level"), coerce=db_int)
    period_type = SelectField(_l("Reporting period"), choices=_choices(PERIOD_TYPE_LABELS))

    def values(self, *, creating: bool) -> dict:
        values = {k: self.data[k] for k in ("code", "kind", "name", "legal_basis")}
        if creating:
            values.update(catalogue_version=_get(CatalogueVersion, self.catalogue_version.data),
                          fill_level=_get(AdminLevel, self.fill_level.data),
                          period_type=self.period_type.data)
        return values


class VersionSettingsForm(FlaskForm):
    fill_level = SelectField(_l("Filled by units of level"), coerce=db_int)
    period_type = SelectField(_l("Reporting period"), choices=_choices(PERIOD_TYPE_LABELS))

    def values(self) -> dict:
        return {"fill_level": _get(AdminLevel, self.fill_level.data),
                "period_type": self.period_type.data}


class SectionForm(FlaskForm):
    title = StringField(_l("Section title"), validators=[InputRequired(), Length(max=300)])


class ItemForm(FlaskForm):
    section = SelectField(_l("Section"), coerce=db_int)
    indicator = SelectField(_l("Indicator"), coerce=db_int)

    def indicator_obj(self) -> Indicator | None:
        return _get(Indicator, self.indicator.data)


class ActionForm(FlaskForm):
    """No fields: carries the CSRF token of a button (move, remove, publish, …)."""


class PeriodForm(FlaskForm):
    period_type = SelectField(_l("Period type"), choices=_choices(PERIOD_TYPE_LABELS))
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=30)],
                       description=_l("2026, 2026-H1, 2026-Q3, 2026-11, or your own code for "
                                      "a custom period."))
    name = StringField(_l("Name (empty = generated)"), validators=[Length(max=100)])
    start_date = DateField(_l("Start (custom periods)"), validators=[Optional()])
    end_date = DateField(_l("End (custom periods)"), validators=[Optional()])
    cutoff_date = DateField(_l("Figures as of (custom periods)"), validators=[Optional()])
    opens_on = DateField(_l("Reporting opens on"), validators=[InputRequired()])
    closes_on = DateField(_l("Reporting closes on"), validators=[InputRequired()])

    def values(self) -> dict:
        return {k: v for k, v in self.data.items() if k != "csrf_token"}


class GeneratePeriodsForm(FlaskForm):
    period_type = SelectField(_l("Period type"), choices=options(
        (k, v) for k, v in PERIOD_TYPE_LABELS.items() if k != "custom"))
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(2000, 2100)])
    opens_before_end = IntegerField(_l("Opens this many days before the period ends"),
                                    default=7, validators=[InputRequired(), NumberRange(0, 366)])
    closes_after_end = IntegerField(_l("Closes this many days after the period ends"),
                                    default=15, validators=[InputRequired(), NumberRange(0, 366)])

    def values(self) -> dict:
        return {k: v for k, v in self.data.items() if k != "csrf_token"}


class IndicatorSearchForm(FlaskForm):
    """The GET filters of the indicator list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search code or name"), validators=[Optional(), Length(max=100)])
    version = SelectField(_l("Catalogue version"), coerce=db_int, validators=[Optional()])
    group = SelectField(_l("Indicator group"), coerce=db_int, validators=[Optional()])

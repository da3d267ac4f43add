"""Forms of the document library: the public search and one class per staff action."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from . import queries
from .models import DOC_TYPES, LINK_KINDS, Validity, Visibility

VALIDITY_LABELS = {
    Validity.IN_FORCE: _l("In force"),
    Validity.PARTLY_EXPIRED: _l("Partly expired"),
    Validity.EXPIRED: _l("Expired"),
}
LINK_LABELS = {"replaces": _l("replaces"), "amends": _l("amends"), "guides": _l("guides")}
LINK_LABELS_BACK = {"replaces": _l("replaced by"), "amends": _l("amended by"),
                    "guides": _l("guided by")}


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return -1  # not a choice: the field says so


class SearchForm(FlaskForm):
    """The public search, read from the query string (no CSRF token, never "submitted").

    The query is not limited in length: past the first words it is ignored, not refused.
    """

    class Meta:
        csrf = False

    q = SearchField(_l("Search documents"), validators=[Optional()])
    group = SelectField(_l("Group"), coerce=_int_or_none, validators=[Optional()])
    doc_type = SelectField(_l("Type"), validators=[Optional()])
    issuer = SelectField(_l("Issued by"), validators=[Optional()])
    year = SelectField(_l("Year"), coerce=_int_or_none, validators=[Optional()])
    in_force = SelectField(_l("Legal status"), validators=[Optional()], choices=[
        SelectChoice("", _l("Any status")), SelectChoice("yes", _l("In force")),
        SelectChoice("no", _l("No longer (fully) in force"))])

    def fill(self) -> SearchForm:
        self.group.choices = [SelectChoice(None, _l("All groups"))] + [
            SelectChoice(g.id, "– " * queries.depth(g) + g.name) for g in queries.groups()]
        self.doc_type.choices = [SelectChoice("", _l("All types"))] + [
            SelectChoice(code, name) for code, name in DOC_TYPES.items()]
        self.issuer.choices = [SelectChoice("", _l("All issuers"))] + [
            SelectChoice(name, name) for name in queries.issuers()]
        self.year.choices = [SelectChoice(None, _l("All years"))] + [
            SelectChoice(year, str(year)) for year in queries.years()]
        return self


class DocumentForm(FlaskForm):
    group = SelectField(_l("Group"), coerce=int, validators=[DataRequired()])
    number = StringField(_l("Number (số ký hiệu)"), validators=[DataRequired(), Length(max=80)],
                         description=_l("As printed, e.g. 414/QĐ-TTg."))
    doc_type = SelectField(_l("Type"), choices=[SelectChoice(c, n) for c, n in DOC_TYPES.items()],
                           validators=[DataRequired()])
    issuer = StringField(_l("Issued by"), validators=[DataRequired(), Length(max=200)])
    signer = StringField(_l("Signed by"), validators=[Optional(), Length(max=120)])
    issued_on = DateField(_l("Issued on"), validators=[Optional()])
    effective_on = DateField(_l("In effect from"), validators=[Optional()])
    validity = SelectField(_l("Legal status"), validators=[Optional()])
    validity_changed_on = DateField(_l("Status changed on"), validators=[Optional()])
    summary = TextAreaField(_l("Summary (trích yếu)"),
                            validators=[DataRequired(), Length(max=2000)])
    field = StringField(_l("Field (lĩnh vực)"), validators=[Optional(), Length(max=200)])
    visibility = SelectField(_l("Who can see it"), validators=[DataRequired()])
    source = TextAreaField(_l("Source"), validators=[Optional(), Length(max=4000)])
    is_sample = BooleanField(_l("Sample data"))

    def fill(self, groups) -> DocumentForm:
        self.group.choices = [SelectChoice(g.id, "– " * queries.depth(g) + g.name)
                              for g in groups]
        self.validity.choices = [SelectChoice("", _l("Not known"))] + [
            SelectChoice(code, label) for code, label in VALIDITY_LABELS.items()]
        self.visibility.choices = [SelectChoice(Visibility.PUBLIC, _l("Public")),
                                   SelectChoice(Visibility.INTERNAL, _l("Internal"))]
        return self

    def values(self, group) -> dict:
        return {"group": group, "number": self.number.data, "doc_type": self.doc_type.data,
                "issuer": self.issuer.data, "signer": self.signer.data,
                "issued_on": self.issued_on.data, "effective_on": self.effective_on.data,
                "validity": self.validity.data or None,
                "validity_changed_on": self.validity_changed_on.data,
                "summary": self.summary.data, "field": self.field.data,
                "visibility": self.visibility.data, "source": self.source.data,
                "is_sample": self.is_sample.data}


class StateForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])


class FileForm(FlaskForm):
    file = FileField(_l("File (PDF, DOC, DOCX or XLSX)"), validators=[FileRequired()])


class LinkForm(FlaskForm):
    kind = SelectField(_l("This document"), validators=[DataRequired()],
                       choices=[SelectChoice(k, LINK_LABELS[k]) for k in LINK_KINDS])
    target = StringField(_l("Number of the other document"),
                         validators=[DataRequired(), Length(max=80)])


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    parent = SelectField(_l("Inside group"), coerce=_int_or_none, validators=[Optional()])
    department = SelectField(_l("Department"), coerce=_int_or_none, validators=[Optional()])
    position = IntegerField(_l("Order"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=9999)])
    retired = BooleanField(_l("Retired (hidden from citizens)"))


class AnnouncementForm(FlaskForm):
    unit = SelectField(_l("From"), coerce=int, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=4000)])
    dated = DateField(_l("Date"), validators=[DataRequired()])

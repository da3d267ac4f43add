"""Forms of the i18n domain: the language switch and the translator workflow."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .exchange_formats import FORMATS


class LocaleForm(FlaskForm):
    """The switch: one ``<select>`` and a button, so it works without JavaScript."""

    locale = SelectField(_l("Language"), validators=[DataRequired()])
    next = HiddenField(validators=[Length(max=2000)])

    def __init__(self, options: list[tuple[str, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = [SelectChoice(tag, label) for tag, label in options]


class ExportForm(FlaskForm):
    """What to export for translators (a GET form: no CSRF token in the URL)."""

    class Meta:
        csrf = False

    format = SelectField(_l("File format"), default="xlsx", choices=[
        SelectChoice("xlsx", _l("Excel workbook (XLSX)")),
        SelectChoice("csv", _l("CSV (UTF-8)")), SelectChoice("po", _l("Gettext PO"))])
    scope = SelectField(_l("Rows"), default="missing", choices=[
        SelectChoice("missing", _l("Untranslated and outdated only")),
        SelectChoice("all", _l("Everything"))])


class ImportForm(FlaskForm):
    file = FileField(_l("Translated file (XLSX, CSV or PO)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(sorted(FORMATS), _l("Only CSV, XLSX or PO files can be imported."))])

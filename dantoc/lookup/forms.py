"""The lookup's choices, read from the query string (GET: a shareable URL, no CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SearchField, SelectField, SelectMultipleField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..web.inputs import db_int


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes (works without JavaScript, readable at 360 px)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LookupForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Find indicators (diacritics optional)"),
                    validators=[Optional(), Length(max=100)])
    indicator = CheckboxesField(_l("Indicators"), coerce=db_int)
    period_from = SelectField(_l("From period"), coerce=db_int, validators=[Optional()])
    period_to = SelectField(_l("To period"), coerce=db_int, validators=[Optional()])
    unit = SelectField(_l("Units"), coerce=db_int, validators=[Optional()])
    by = CheckboxesField(_l("Break down by"))
    swap = BooleanField(_l("Indicators as rows (swap rows and columns)"))
    pending = BooleanField(_l("Include reports not approved yet"))
    rebase = BooleanField(_l("Re-base onto today's units"))

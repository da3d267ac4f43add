"""Review forms: each carries the version it acts on, so a stale page cannot act."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class ApproveForm(FlaskForm):
    """Approve the version shown on the page."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])


class ReturnForm(FlaskForm):
    """Return the version shown, with the reason the village head will read."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    reason = TextAreaField(_l("Reason for returning"), validators=[
        DataRequired(message=_l("Please say why the report is returned.")),
        Length(max=2000)])


class FilterForm(FlaskForm):
    """Inbox filters, read from the query string (GET, no CSRF)."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), coerce=int, validators=[Optional()])
    form = SelectField(_l("Form"), coerce=int, validators=[Optional()])
    state = SelectField(_l("Status"), validators=[Optional()])


class BulkApproveForm(FlaskForm):
    """Approve the ticked reports; each tick names "uuid:version" so stale ones are skipped."""

    items = SelectMultipleField(validate_choice=False)

    def targets(self) -> list[tuple[uuid.UUID, int]]:
        """The well-formed ticks as (client UUID, version); anything else is ignored."""
        result = []
        for text in self.items.data or []:
            key, _sep, number = str(text).partition(":")
            try:
                result.append((uuid.UUID(key), int(number)))
            except ValueError:
                continue
        return result[:200]

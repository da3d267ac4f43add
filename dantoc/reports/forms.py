"""Report forms: each action carries the report version it acts on, so a stale page cannot
act; the submit form names each unit that is not approved with a reason."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..web.inputs import IntegerField, db_int

#: Field name prefix of the reason given for one missing unit: ``missing_<unit id>``.
MISSING_PREFIX = "missing_"


class ActionForm(FlaskForm):
    """Approve (or submit) the report version shown on the page."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=0)])


class ReasonForm(ActionForm):
    """Return or reopen the version shown, with the reason the unit's officer will read."""

    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("Please say why: the reason is shown to the unit's officer.")),
        Length(max=2000)])


def missing_reasons(data: MultiDict) -> dict[int, str]:
    """unit id → reason, from the ``missing_<unit id>`` fields (malformed names ignored; the
    service applies the reason rule)."""
    reasons = {}
    for name, value in data.items():
        if name.startswith(MISSING_PREFIX):
            try:
                reasons[int(name[len(MISSING_PREFIX):])] = str(value)
            except ValueError:
                continue
    return reasons


class CompletenessForm(FlaskForm):
    """Completeness filters (GET): period, form and the unit drilled into."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), coerce=db_int, validators=[Optional()])
    form = SelectField(_l("Form"), coerce=db_int, validators=[Optional()])
    unit = IntegerField(validators=[Optional()])

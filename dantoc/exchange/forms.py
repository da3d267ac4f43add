"""The reviewer's two decisions; each carries the report version the page showed, so a
stale page cannot act. The reason rule (required for a rejection, its length) is the
workflow core's, not the form's: one rule for every caller."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, NumberRange

from ..web.inputs import IntegerField


class AcceptForm(FlaskForm):
    """Accept the draft version shown on the page."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=0)])


class RejectForm(AcceptForm):
    """Reject the draft version shown, with the reason kept with it."""

    reason = TextAreaField(_l("Reason for rejecting"))

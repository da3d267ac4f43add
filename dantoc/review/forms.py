"""Review forms: each carries the version it acts on, so a stale page cannot act."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..submissions.models import MAX_COMMENT
from ..web.inputs import IntegerField


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ApproveForm(FlaskForm):
    """Approve the version shown on the page."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])


class ReturnForm(FlaskForm):
    """Return the version shown, with the reason the village head will read."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    reason = TextAreaField(_l("Reason for returning"), validators=[
        DataRequired(message=_l("Please say why the report is returned.")),
        Length(max=2000)])
    targets: list = []

    def comments(self) -> list[tuple[object, str]]:
        """(target, text) of every comment typed, in form order."""
        return [(target, self[target.name].data) for target in self.targets
                if self[target.name].data]

    def comment_fields(self):
        """(target, field) pairs for the template."""
        return [(target, self[target.name]) for target in self.targets]


def return_form(targets, **data) -> ReturnForm:
    """A :class:`ReturnForm` with one optional comment per field the reviewer may comment
    on (``targets``: :class:`~dantoc.review.queries.Target`). Field names say which field
    a comment is on, so a comment can never land on another field."""
    attrs = {}
    for n, target in enumerate(targets):
        attrs[target.name] = StringField(
            target.indicator.name, [Optional(), Length(max=MAX_COMMENT, message=_l(
                "At most %(max)d characters."))], filters=[_strip], id=f"c{n}",
            render_kw={"maxlength": MAX_COMMENT})
    form_class = type("ReturnWithComments", (ReturnForm,), attrs)
    form = form_class(**data)  # a POST reads the request's form data
    form.targets = list(targets)
    return form


class UnapproveForm(FlaskForm):
    """Withdraw the approval of the version shown, with the reason the record keeps."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    reason = TextAreaField(_l("Reason for withdrawing the approval"), validators=[
        DataRequired(message=_l("Please say why the approval is withdrawn.")),
        Length(max=2000)])


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

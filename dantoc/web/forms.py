"""Forms and the services behind them: run a valid POST's write and commit, or show the
service's refusal of one input next to its field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from ..extensions import db
from ..refusal import FieldError

T = TypeVar("T")


def show_error(form: FlaskForm, error: FieldError,
               aliases: Mapping[str, str] | None = None) -> None:
    """Undo the refused write and put its message next to its field, or above the form.

    :param aliases: service field name → form field name, where the two differ.
    """
    db.session.rollback()
    name = (aliases or {}).get(error.field, error.field) if error.field else None
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def submitted(form: FlaskForm, write: Callable[[], T],
              aliases: Mapping[str, str] | None = None) -> tuple[bool, T | None]:
    """For a valid POST of ``form``, run ``write`` (the service call) and commit.

    :return: (True, what ``write`` returned); (False, None) when the form was not posted,
        is not valid, or the service refused: then nothing was kept and the message is on
        the form, for the view to render again.
    """
    if not form.validate_on_submit():
        return False, None
    try:
        result = write()
    except FieldError as error:
        show_error(form, error, aliases)
        return False, None
    db.session.commit()
    return True, result


class FilterForm(FlaskForm):
    """The filters of a list of reports (the review inbox, the unit reports), read from the
    query string (GET, no CSRF); shown by ``templates/_filters.html``."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), coerce=int, validators=[Optional()])
    form = SelectField(_l("Form"), coerce=int, validators=[Optional()])
    state = SelectField(_l("Status"), validators=[Optional()])
    village = StringField(_l("Village"), validators=[Optional(), Length(max=100)],
                          filters=[lambda v: v.strip() if isinstance(v, str) else v])

    @classmethod
    def read(cls, args, periods: list[tuple[int, str]], forms: list[tuple[int, str]],
             states: list[tuple[str, str]]) -> FilterForm:
        """The filters of ``args`` among the labelled choices, validated (a value that is not
        among them counts as no filter: :meth:`chosen`)."""
        filters = cls(args)
        filters.period.choices = [(0, _("All periods")), *periods]
        filters.form.choices = [(0, _("All forms")), *forms]
        filters.state.choices = [("", _("All states")), *states]
        filters.validate()
        return filters

    def chosen(self, name: str):
        """The value of filter ``name``, None when absent or not valid."""
        field = self[name]
        return None if field.errors or not field.data else field.data

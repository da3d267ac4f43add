"""Forms and the services behind them: run a valid POST's write and commit, or show the
service's refusal of one input next to its field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from flask_wtf import FlaskForm

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

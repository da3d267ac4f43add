"""Showing a service's refusal of one input on the form that sent it."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm

from ..extensions import db
from ..refusal import FieldError


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

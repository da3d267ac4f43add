"""What every indicator service shares: the error type, code checks and audited updates."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ...audit import services as audit
from ...extensions import db
from ...refusal import FieldError
from ..rules import RESERVED

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")


def clean_text(value: str | None, field: str, *, required: bool = True,
               max_length: int = 300) -> str | None:
    """Trimmed text, or None when blank and optional.

    :raise FieldError: when required and blank, or too long.
    """
    value = (value or "").strip()
    if not value:
        if required:
            raise FieldError(_("This field is required."), field)
        return None
    if len(value) > max_length:
        raise FieldError(_("At most %(n)s characters.", n=max_length), field)
    return value


def check_code(code: str | None, field: str = "code", *, max_length: int = 30) -> str:
    """A catalogue code: letters, digits, "_", "-" and "." only.

    :raise FieldError: when the code is blank, too long or has other characters.
    """
    code = clean_text(code, field, max_length=max_length)
    if not _CODE.match(code):
        raise FieldError(_("Use only letters, digits, “_”, “-” and “.”."), field)
    return code


def check_identifier(code: str | None, field: str = "code") -> str:
    """An indicator code, usable in rules: a letter or "_" then letters, digits or "_".

    :raise FieldError: when it is not such an identifier or is a reserved word.
    """
    code = clean_text(code, field, max_length=40)
    if not _IDENTIFIER.match(code):
        raise FieldError(_("Start with a letter; use only letters without accents, digits "
                           "and “_”."), field)
    if code.lower() in RESERVED or code.startswith("__"):
        raise FieldError(_("“%(code)s” is a reserved word.", code=code), field)
    return code


def check_dates(start: date | None, end: date | None, *, start_field: str,
                end_field: str, required_end: bool = False) -> None:
    """Start required; end (when given) not before start.

    :raise FieldError: on a missing start or an end before the start.
    """
    if start is None:
        raise FieldError(_("This field is required."), start_field)
    if end is None and required_end:
        raise FieldError(_("This field is required."), end_field)
    if end is not None and end < start:
        raise FieldError(_("This date cannot be before the start date."), end_field)


def check_unique(model: type, current: Any = None, *, message: str | None = None,
                 field: str = "code", **where: Any) -> None:
    """Refuse a value another row of ``model`` already has (``where``: column → value);
    ``current`` is the row being changed, which may keep its own value.

    :raise FieldError: at ``field``, with ``message`` (default: the code is taken).
    """
    other = db.session.scalar(sa.select(model).filter_by(**where))
    if other is not None and other is not current:
        raise FieldError(message or _("This code is already used."), field)


def unique_in_version(model: type, values: dict, current: Any = None) -> None:
    """Refuse a code another row of ``model`` has in the same catalogue version.

    :raise FieldError: at ``code``.
    """
    check_unique(model, current,
                 message=_("This code is already used in this catalogue version."),
                 catalogue_version_id=values["catalogue_version_id"], code=values["code"])


def created(action: str, obj: Any, fields: Iterable[str] | None = None) -> Any:
    """Flush a new object and audit its creation."""
    db.session.add(obj)
    db.session.flush()
    audit.record(action, obj, after=audit.snapshot(obj, tuple(fields) if fields else None))
    return obj


def changed(action: str, obj: Any, values: dict[str, Any]) -> Any:
    """Apply ``values`` to ``obj``, flush, and audit the before and after of what changed."""
    before = {k: getattr(obj, k) for k in values if getattr(obj, k) != values[k]}
    if not before:
        return obj
    for key in before:
        setattr(obj, key, values[key])
    db.session.flush()
    audit.record(action, obj, before=before, after=audit.snapshot(obj, tuple(before)))
    return obj

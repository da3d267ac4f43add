"""The input boundary: what no view has to check again.

A request is refused before any view runs (:func:`check_request`, a ``before_request``
hook) when a path argument, a query value or a form value (or a name) holds a control
character: NUL and the other C0 controls and DEL, except tab, line feed and carriage return
(multi-line text). PostgreSQL cannot store NUL in text, SQLite would store it silently, and no
one types the others. The answer is ``bad_characters`` (400) with a localized message.
A body over ``MAX_CONTENT_LENGTH`` is refused by the same hook (``too_large``, 413), because it
reads the form first, before the CSRF check or a view could trip over it.

Numbers and dates are bounded where they are parsed, so that the database never sees what it
cannot store: the ``int`` URL converter stops at the largest INTEGER (:class:`IntegerConverter`: a
larger id is a 404), :func:`db_int` does the same for ``request.args.get(..., type=db_int)``,
:func:`page_number` reads the ``page`` argument of a list, and the form fields below refuse
dates outside 1900–2200, NaN, infinities and decimals too large for their column, with a
message next to the field.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import wtforms
from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug import routing
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.validators import StopValidation

#: The largest id or whole number the database stores: the ids and counts are INTEGER
#: columns, 32 bits on PostgreSQL (SQLite's 64 bits would allow more).
MAX_INT = 2**31 - 1
#: The dates a person may mean: anything outside is a typo or an attack (9999-12-31).
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)
#: The last page a list may be asked for (a bigger number is read as page 1).
MAX_PAGE = 1_000_000
#: C0 controls and DEL, except tab, line feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def has_control(text: str) -> bool:
    """True when ``text`` holds a character the boundary refuses."""
    return bool(CONTROL.search(text))


def _texts():
    for value in (request.view_args or {}).values():
        if isinstance(value, str):
            yield value
    for name, values in request.args.lists():
        yield name
        yield from values
    if request.method in UNSAFE_METHODS:
        for name, values in request.form.lists():
            yield name
            yield from values
        for name in request.files:
            yield name


def check_request():
    """``before_request``: refuse control characters anywhere in the request's text, and a
    body over the size limit (see the module docstring)."""
    from .errors import refuse

    try:  # one search over every text, joined by a character the boundary allows
        bad = has_control("\n".join(_texts()))
    except RequestEntityTooLarge:
        return refuse("too_large")
    if bad:
        return refuse("bad_characters")
    return None


def db_int(text: str) -> int:
    """``int(text)`` for an id or a count: :raise ValueError: beyond :data:`MAX_INT` (so that
    ``request.args.get(name, type=db_int)`` falls back to its default)."""
    value = int(text)
    if not -MAX_INT <= value <= MAX_INT:
        raise ValueError("out of range")
    return value


def page_number() -> int:
    """The ``page`` query argument of a list: 1 when missing, malformed or out of range."""
    page = request.args.get("page", 1, type=db_int)
    return page if 1 <= page <= MAX_PAGE else 1


class IntegerConverter(routing.IntegerConverter):
    """The ``<int:…>`` URL converter, bounded to what the database stores: a 20-digit id
    does not match the route (404) instead of overflowing the query. (Werkzeug's class name,
    which tests that build URLs from the map look for.)"""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


class _Bounded:
    """A field whose parsed value may be out of bounds: the value is dropped (``data`` is
    None, so code that reads it without validating never sees it) and the message is given
    by ``pre_validate``, which stops the chain, so a ``DataRequired`` that sees no data does
    not replace it with "This field is required"."""

    _refusal = None

    def process_formdata(self, valuelist):
        self._refusal = None
        super().process_formdata(valuelist)
        if self.data is not None:
            self._refusal = self.refusal(self.data)
            if self._refusal is not None:
                self.data = None

    def refusal(self, value):
        """The message for an out-of-bounds ``value``, or None."""
        raise NotImplementedError

    def pre_validate(self, form):
        if self._refusal is not None:
            raise StopValidation(self._refusal)
        super().pre_validate(form)


class DateField(_Bounded, wtforms.DateField):
    """A date field that refuses dates outside :data:`EARLIEST`–:data:`LATEST`."""

    def refusal(self, value):
        if EARLIEST <= value <= LATEST:
            return None
        return _l("Enter a date between %(first)s and %(last)s.",
                  first=EARLIEST.strftime("%d/%m/%Y"), last=LATEST.strftime("%d/%m/%Y"))


class DecimalField(_Bounded, wtforms.DecimalField):
    """A decimal field that refuses NaN, infinities and numbers too large for its column.

    :param max_digits: digits before the decimal point the column keeps (Numeric(18, 4): 14).
    """

    def __init__(self, *args, max_digits: int = 14, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_digits = max_digits

    def refusal(self, value):
        if not isinstance(value, Decimal):
            return None
        if not value.is_finite():
            return _l("Enter a number, for example 12.5.")
        if abs(value) >= Decimal(10) ** self.max_digits:
            return _l("This number is too large.")
        return None


class IntegerField(_Bounded, wtforms.IntegerField):
    """An integer field that refuses numbers beyond what an INTEGER column stores."""

    def refusal(self, value):
        return None if -MAX_INT <= value <= MAX_INT else _l("This number is too large.")


def register_converters(app: Flask) -> None:
    """Before any route is added: the bounded ``int`` converter."""
    app.url_map.converters["int"] = IntegerConverter


def init_app(app: Flask) -> None:
    # First of the before_request hooks that read the request (CSRF comes after).
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)

"""The one exception a service raises when it refuses a request.

A :class:`Refusal` carries a stable string code from the error catalogue
(:mod:`dantoc.web.errors`, documented in ``docs/errors.md``), which gives it its HTTP status
and a default localized message; the view that catches it may say more (a lock's dates, the
units still missing). Nothing of a refused request is written: the view rolls back.

:class:`FieldError` is the refusal of one input (code ``invalid``): its message belongs next
to a form field. The catalog and indicator services raise it; every form shows it the same
way (:func:`dantoc.web.forms.show_error`).
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A refused request: ``code`` from the error catalogue, and what the answer may need.

    :param code: the stable code (``stale``, ``locked``, ``reason_required``, …).
    :param obj: the record refused (for the answer: its current state or version).
    :param message: a localized detail that replaces the catalogue's default message.
    :param field: the form field the message belongs to.
    :param lock: why the record is locked (a :data:`dantoc.workflow.LOCKS` name).
    :param extra: members added to a JSON answer, and context for the domain's message.
    """

    def __init__(self, code: str, obj: Any = None, *, message: Any = None,
                 field: str | None = None, lock: str | None = None, **extra: Any):
        super().__init__(code)
        self.code, self.obj, self.message, self.field, self.lock = code, obj, message, field, lock
        self.extra = extra

    def __str__(self) -> str:
        return str(self.message) if self.message is not None else self.code


class FieldError(Refusal):
    """Bad input to a service: a localized ``message``, at form field ``field`` if given."""

    def __init__(self, message: Any, field: str | None = None):
        super().__init__("invalid", message=message, field=field)

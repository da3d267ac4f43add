"""Published form definitions, built once per process and reused while they are current.

:func:`dantoc.submissions.formbuilder.load_spec` used to rebuild the entry form's
definition (sections, items, indicators with their disaggregations and choices, the rules,
the translated labels) on every GET, POST and check: about 38 % of the view's time. A
published form version's sections and items never change, but its indicators' names,
bounds, choices and disaggregations, the catalogue's rules, the catalogs and the content
translations may: so a built definition is kept per (form version, locale) together with
the :class:`~dantoc.indicators.models.DefinitionStamp` it was built under, and the stamp is
changed in the same transaction as any change to those tables (a ``before_flush`` listener
on every session). Every request reads the stamp (one primary-key read); a process whose
copy is older rebuilds it.

The cached objects are loaded in a session of their own and detached from it with
everything the pages read already loaded: they are shared, read-only values, never added
to a request's session.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import has_request_context, request

from ..catalogs.models import EthnicGroup, Religion
from ..extensions import db
from ..i18n.models import ContentTranslation
from ..indicators.models import (
    DefinitionStamp,
    Disaggregation,
    DisaggregationOption,
    FormItem,
    FormSection,
    FormVersion,
    Indicator,
    IndicatorChoice,
    ValidationRule,
)

NAME = "forms"
#: Changes to these tables change what a built form shows or checks.
WATCHED = (Indicator, IndicatorChoice, Disaggregation, DisaggregationOption, ValidationRule,
           FormVersion, FormSection, FormItem, EthnicGroup, Religion, ContentTranslation)

#: (form version id, locale tag) → (stamp, built definition).
_built: dict[tuple[int, str], tuple[str, Any]] = {}
#: The markup of untouched entry fields (``Page.untouched``), by a key that starts with the
#: stamp it was rendered under; at most :data:`MARKUP_SIZE` (the rows of a grid and the
#: rows offered to add vary by village), then all are dropped.
_markup: dict[tuple, str] = {}
MARKUP_SIZE = 2048


#: Where a request keeps the stamp it read with its form page's target (its WSGI environ:
#: per request, also where tests share one application context between requests).
_REQUEST_KEY = "dantoc.definition_stamp"


def stamp() -> str:
    """The current stamp ("" when the row is missing: then nothing is ever reused): the one
    this request read with its target (:func:`read_with`), or read now."""
    if has_request_context():
        known = request.environ.get(_REQUEST_KEY)
        if known is not None:
            return known
    return db.session.scalar(sa.select(DefinitionStamp.stamp)
                             .where(DefinitionStamp.name == NAME)) or ""


def read_with(current: str) -> None:
    """This request read the stamp in a statement of its own (the entry page's target): the
    next :func:`stamp` of the request needs no statement. Forgotten when the request raises
    the stamp."""
    if has_request_context():
        request.environ[_REQUEST_KEY] = current


def get(key: tuple[int, str], current: str):
    """The definition built under ``current`` for ``key``, or None."""
    found = _built.get(key)
    return found[1] if current and found is not None and found[0] == current else None


def put(key: tuple[int, str], current: str, value) -> None:
    if current:
        _built[key] = (current, value)


def kept_markup(key: tuple) -> str | None:
    return _markup.get(key)


def keep_markup(key: tuple, text: str) -> None:
    if len(_markup) >= MARKUP_SIZE:
        _markup.clear()
    _markup[key] = text


def clear() -> None:
    """Forget every built definition and kept markup (tests)."""
    _built.clear()
    _markup.clear()


def _raise(connection: sa.Connection) -> None:
    if has_request_context():
        request.environ.pop(_REQUEST_KEY, None)
    table = DefinitionStamp.__table__
    token = uuid.uuid4().hex
    done = connection.execute(table.update().where(table.c.name == NAME).values(stamp=token))
    if done.rowcount == 0:
        connection.execute(table.insert().values(name=NAME, stamp=token))


@sa.event.listens_for(so.Session, "before_flush")
def _watch(session: so.Session, _context, _instances) -> None:
    """Raise the stamp in the transaction of any flush that adds, changes or deletes a
    watched row (rare writes: every such flush raises it, savepoints need no bookkeeping)."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, WATCHED) for obj in changed):
        _raise(session.connection())

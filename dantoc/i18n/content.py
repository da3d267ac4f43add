"""Translatable content: ``tr(obj, "name")`` in the active locale, never blank.

The stored value of a field (``Indicator.name`` …) is the Vietnamese text. Translations
live in ``content_translations``; a lookup walks the active locale's chain and ends at the
stored Vietnamese value. Each (object type, locale) pair is read in one query per request.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import g
from markupsafe import Markup, escape

from ..extensions import db
from .locales import DEFAULT
from .models import ContentTranslation
from .selection import CONTENT_CACHE, current_locale, current_tag

#: Table → (model, translatable fields). A domain that adds translatable text (for example
#: the portal's public page texts) adds its table here; tests check every entry.
TRANSLATABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "indicator_groups": ("dantoc.indicators.models:IndicatorGroup", ("name",)),
    "indicators": ("dantoc.indicators.models:Indicator",
                   ("name", "unit_of_measure", "help_text")),
    "indicator_choices": ("dantoc.indicators.models:IndicatorChoice", ("label",)),
    "disaggregations": ("dantoc.indicators.models:Disaggregation", ("name",)),
    "disaggregation_options": ("dantoc.indicators.models:DisaggregationOption", ("label",)),
    "validation_rules": ("dantoc.indicators.models:ValidationRule", ("message",)),
    "forms": ("dantoc.indicators.models:Form", ("name",)),
    "form_sections": ("dantoc.indicators.models:FormSection", ("title",)),
    "ethnic_groups": ("dantoc.catalogs.models:EthnicGroup", ("name",)),
    "religions": ("dantoc.catalogs.models:Religion", ("name",)),
    "admin_levels": ("dantoc.catalogs.models:AdminLevel", ("name",)),
    "unit_types": ("dantoc.catalogs.models:UnitType", ("name",)),
    "admin_units": ("dantoc.catalogs.models:AdminUnit", ("name",)),
    "departments": ("dantoc.catalogs.models:Department", ("name",)),
}
#: Longest translation accepted for a ``Text`` column.
TEXT_LIMIT = 4000


class NotTranslatable(ValueError):
    """The object type or field is not registered in :data:`TRANSLATABLE`."""


def model_of(object_type: str) -> type:
    """The model class of a registered object type.

    :raise NotTranslatable: for an unregistered type.
    """
    if object_type not in TRANSLATABLE:
        raise NotTranslatable(object_type)
    module, _, name = TRANSLATABLE[object_type][0].partition(":")
    return getattr(importlib.import_module(module), name)


def fields_of(object_type: str) -> tuple[str, ...]:
    if object_type not in TRANSLATABLE:
        raise NotTranslatable(object_type)
    return TRANSLATABLE[object_type][1]


def max_length(object_type: str, field: str) -> int:
    """The longest text a translation of this field may have: the source column's length."""
    column = model_of(object_type).__table__.columns[field]
    return getattr(column.type, "length", None) or TEXT_LIMIT


def _check(obj: Any, field: str) -> str:
    object_type = getattr(obj, "__tablename__", None)
    if object_type not in TRANSLATABLE or field not in TRANSLATABLE[object_type][1]:
        raise NotTranslatable(f"{object_type}.{field}")
    return object_type


def _translations(object_type: str, tag: str) -> dict[tuple[int, str], str]:
    cache = g.setdefault(CONTENT_CACHE, {})
    key = (object_type, tag)
    if key not in cache:
        try:
            rows = db.session.execute(
                sa.select(ContentTranslation.object_id, ContentTranslation.field,
                          ContentTranslation.text)
                .where(ContentTranslation.object_type == object_type,
                       ContentTranslation.locale == tag)).all()
        except sa.exc.SQLAlchemyError:  # never fail a page over a label: show Vietnamese
            rows = []
        cache[key] = {(object_id, field): text for object_id, field, text in rows}
    return cache[key]


def forget() -> None:
    """Drop this request's cached content translations (after a write)."""
    g.pop(CONTENT_CACHE, None)


def content_chain() -> Iterator[str]:
    """The active locale's chain, without Vietnamese (the stored value is Vietnamese)."""
    return (tag for tag in current_locale().chain() if tag != DEFAULT)


def lookup(object_type: str, object_id: int | None, field: str,
           source: str | None) -> tuple[str, str]:
    """(text, its BCP 47 tag) for a field in the active locale, ending at ``source`` (vi)."""
    if object_id is not None:
        for tag in content_chain():
            text = _translations(object_type, tag).get((object_id, field))
            if text:
                return text, tag
    return source or "", DEFAULT


def tr(obj: Any, field: str) -> str:
    """The field of ``obj`` in the active locale, or its Vietnamese value.

    :raise NotTranslatable: when the field is not registered (a programming error).
    """
    object_type = _check(obj, field)
    return lookup(object_type, obj.id, field, getattr(obj, field))[0]


def tr_html(obj: Any, field: str) -> Markup:
    """Like :func:`tr`, escaped, in ``<span lang>`` when its language is not the page's."""
    object_type = _check(obj, field)
    text, tag = lookup(object_type, obj.id, field, getattr(obj, field))
    if text and tag != current_tag():
        return Markup('<span lang="{}">{}</span>').format(tag, text)
    return escape(text)


def translated(object_type: str, tag: str) -> dict[tuple[int, str], ContentTranslation]:
    """Every stored translation of one object type into one locale, by (id, field)."""
    rows = db.session.scalars(sa.select(ContentTranslation).where(
        ContentTranslation.object_type == object_type, ContentTranslation.locale == tag))
    return {(row.object_id, row.field): row for row in rows}


def sources(object_type: str) -> Iterator[tuple[int, str, str]]:
    """(object id, field, Vietnamese text) of every non-empty translatable field."""
    model = model_of(object_type)
    fields = fields_of(object_type)
    columns = [getattr(model, name) for name in fields]
    for row in db.session.execute(sa.select(model.id, *columns).order_by(model.id)):
        for name, value in zip(fields, row[1:], strict=True):
            if value and str(value).strip():
                yield row[0], name, str(value)

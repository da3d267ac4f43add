"""National records and local ones (docs/api.md §National records and local codes).

A province copies the centre's records with ``flask sync pull`` (:mod:`.pull`); each row
it writes, or finds already here under the same key, is marked with the centre's address
in ``synced_from`` (:class:`Pulled`). Such a **national record** is read-only here: the
services refuse to change it (:func:`check_editable`, code ``national_record``), so the
views, the catalog import and any later API write share the rule; the next pull brings
the centre's changes.

A record created here keeps ``synced_from`` empty and, at a province (an instance with
``DANTOC_SYNC_PEER``), takes its code from the **local range**, which the centre never
issues, so that no later pull can land on it:

- indicator system, forms, departments and disaggregations: codes that begin with ``DP_``
  (*địa phương*), in any letter case (:func:`check_local_code`). Every other instance
  (the centre) refuses such codes: they are the provinces';
- administrative units: codes with a character other than a digit (``03388-B01``, as
  villages are coded): the national list of units (GSO) is digits only
  (:func:`check_local_unit_code`);
- ethnic groups and religions are national lists with GSO codes: a province adds none.

This module is a leaf: the models and services of the catalogs and of the indicator
system use it, and it uses none of them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context
from flask_babel import gettext as _

from ..refusal import FieldError, Refusal

#: The beginning of every code created at a province (compared in any letter case).
LOCAL_PREFIX = "DP_"


class Pulled:
    """Mixin of the models whose rows a province copies from its centre."""

    #: The centre's base address this row was copied from by ``flask sync pull``; None:
    #: created here.
    synced_from: so.Mapped[str | None] = so.mapped_column(sa.String(300))


def is_province() -> bool:
    """Whether this instance takes its national records from a centre
    (``DANTOC_SYNC_PEER`` is set)."""
    return has_app_context() and bool(current_app.config.get("SYNC_PEER"))


def national(row: Any) -> bool:
    """Whether ``row`` came from the centre (and is read-only here)."""
    return getattr(row, "synced_from", None) is not None


def national_message() -> str:
    return _("This record comes from the centre's system and is read-only here: it changes "
             "only when the centre changes it, through synchronisation. Nothing was changed.")


def check_editable(row: Any) -> None:
    """Refuse to change a national record.

    :raise Refusal: ``national_record`` (409).
    """
    if national(row):
        raise Refusal("national_record", row, message=national_message())


def in_local_range(code: str | None) -> bool:
    return bool(code) and code[:len(LOCAL_PREFIX)].upper() == LOCAL_PREFIX


def check_local_code(code: str | None, field: str = "code", *,
                     current: str | None = None) -> None:
    """A new code (or a changed one: ``current`` is the code the record has) of the
    indicator system, a form, a department or a disaggregation: at a province in the local
    range, elsewhere outside it.

    :raise FieldError: at ``field``.
    """
    if not code or code == current:
        return
    if is_province() and not in_local_range(code):
        raise FieldError(_("Codes of records created at this province begin with "
                           "“%(prefix)s” (the local range, which the centre never issues), "
                           "for example “%(prefix)s%(code)s”.", prefix=LOCAL_PREFIX,
                           code=code), field)
    if not is_province() and in_local_range(code):
        raise FieldError(_("Codes beginning with “%(prefix)s” are kept for the records "
                           "provinces create themselves.", prefix=LOCAL_PREFIX), field)


def check_local_unit_code(code: str | None, field: str = "code", *,
                          current: str | None = None) -> None:
    """A new (or changed) code of an administrative unit created at a province: not digits
    only, which the centre's units are.

    :raise FieldError: at ``field``.
    """
    if not code or code == current or not is_province():
        return
    if code.isdigit():
        raise FieldError(_("At this province, a unit created here has a code with a character "
                           "other than a digit, for example “%(code)s-B01”: the units of the "
                           "centre have codes of digits only.", code=code), field)


def check_national_list() -> None:
    """Refuse a new ethnic group or religion at a province: these lists come from the
    centre only.

    :raise FieldError: at ``code``.
    """
    if is_province():
        raise FieldError(_("At this province, ethnic groups and religions come from the "
                           "centre's system only (synchronisation)."), "code")

"""What people read instead of stored codes: a disaggregation key in words ("Thái – Nữ"), a
choice answer as its label, yes/no as words.

Values are stored by code (``ethnic_group=03;sex=female``, ``under_5km``) so that they survive
renames and translations; every page that shows one to a person goes through here (the
template globals ``breakdown`` and ``answer``; periods have the ``period`` filter). The
options of an indicator are read once per request.
"""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _

from ..i18n.content import tr
from ..i18n.formatting import format_period
from ..indicators.models import Indicator
from .formbuilder import ItemSpec, cell_label, dims_of


def _item(indicator: Indicator) -> ItemSpec:
    cache = g.setdefault("_label_items", {})
    if indicator.id not in cache:
        cache[indicator.id] = ItemSpec(indicator, "", dims_of(indicator))
    return cache[indicator.id]


def breakdown(indicator: Indicator, key: str | None) -> str:
    """``ethnic_group=03;sex=female`` → "Thái – Nữ" (the ethnic group first); "" for none.

    A code no longer among the options is shown as the code itself, never dropped.
    """
    if not key:
        return ""
    return cell_label(_item(indicator), key)


def answer(indicator: Indicator, value) -> str:
    """A stored answer as words: a choice code as its label, ``True`` as "Yes"."""
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if indicator.value_type == "choice":
        labels = {c.code: tr(c, "label") for c in indicator.choices}
        return labels.get(value, value)
    return value


def period_choices(periods) -> list[tuple[int, str]]:
    """(id, "Quý 4/2026") of each period, for a filter."""
    return [(p.id, format_period(p)) for p in periods]


def form_choices(forms) -> list[tuple[int, str]]:
    """(id, the form's name) of each form, for a filter (never its code)."""
    return [(f.id, tr(f, "name")) for f in forms]

"""The Statistics Law's description of an indicator, as people read it beside its figures.

Luật Thống kê 2015, Điều 3 khoản 10: an indicator is described by its code, group, name and
its concept, method of calculation, main breakdowns, publication period, data source and the
agency responsible. The lookup, the official biểu and the exports show it; the indicator
screens edit it.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n.content import tr
from .models import DESCRIPTION_FIELDS, Indicator

LABELS = {"concept": _l("Concept"), "method": _l("Method of calculation"),
          "main_breakdowns": _l("Main breakdowns"),
          "publication_period": _l("Publication period"), "data_source": _l("Data source"),
          "responsible_agency": _l("Responsible agency")}


def described(indicator: Indicator) -> list[tuple[str, str]]:
    """(label, text) of the description fields the indicator has, in the law's order."""
    return [(str(LABELS[name]), getattr(indicator, name)) for name in DESCRIPTION_FIELDS
            if getattr(indicator, name)]


def add_sheet(book, indicators) -> None:
    """A sheet "Giải thích chỉ tiêu" listing each indicator's code, group, name, unit and
    description (an export's figures are never without their meaning)."""
    ws = book.create_sheet(_("Indicator descriptions")[:31])
    ws.append([_("Code"), _("Indicator group"), _("Name"), _("Unit of measure"),
               *(str(LABELS[name]) for name in DESCRIPTION_FIELDS)])
    for indicator in indicators:
        ws.append([indicator.code, tr(indicator.group, "name"), tr(indicator, "name"),
                   tr(indicator, "unit_of_measure") if indicator.unit_of_measure else "",
                   *(getattr(indicator, name) or "" for name in DESCRIPTION_FIELDS)])
    for letter, width in zip("ABCDEFGHIJ", (14, 24, 36, 10, 40, 40, 24, 16, 24, 24),
                             strict=True):
        ws.column_dimensions[letter].width = width

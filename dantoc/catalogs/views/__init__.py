"""Province staff screens for the catalogs: units (list, tree, detail, edit), import, lists.

Reading needs ``catalog.view``; every write needs ``catalog.manage``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint

from ..rules import show_date

bp = Blueprint("catalogs", __name__, url_prefix="/catalogs")


@bp.app_template_filter("catalog_date")
def catalog_date(day: date | None) -> str:
    """dd/mm/yyyy; "—" for an open end or a start before our records."""
    return show_date(day)


from . import lists, units  # noqa: E402, F401  (registers the routes)

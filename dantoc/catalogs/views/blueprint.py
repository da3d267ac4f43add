"""The catalogs blueprint and its template filter; the view modules (:mod:`.lists`,
:mod:`.units`) attach their routes to it."""

from __future__ import annotations

from datetime import date

from flask import Blueprint

from ..checks import show_date

bp = Blueprint("catalogs", __name__, url_prefix="/catalogs")


@bp.app_template_filter("catalog_date")
def catalog_date(day: date | None) -> str:
    """dd/mm/yyyy; "—" for an open end or a start before our records."""
    return show_date(day)

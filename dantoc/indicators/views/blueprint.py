"""The indicators blueprint and what every indicator template shares: the localised names of
the closed value sets and the plain-number filter. The view modules attach their routes."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint

from ..forms import (
    FORM_KIND_LABELS,
    PERIOD_TYPE_LABELS,
    STATUS_LABELS,
    VALUE_TYPE_LABELS,
)

bp = Blueprint("indicators", __name__, url_prefix="/indicators")


@bp.context_processor
def labels() -> dict:
    """Localised names of the closed value sets, for every indicator template."""
    return {"value_types": VALUE_TYPE_LABELS, "form_kinds": FORM_KIND_LABELS,
            "statuses": STATUS_LABELS, "period_types": PERIOD_TYPE_LABELS}


@bp.app_template_filter("plain_number")
def plain_number(value: Decimal | None) -> str:
    """100.0000 as 100, 2.5000 as 2.5, None as an empty string."""
    return "" if value is None else f"{value.normalize():f}"

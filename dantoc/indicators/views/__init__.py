"""Province staff screens for the indicator system (permission ``form.manage``).

Catalogue versions, indicator groups, indicators, rules, forms with their versions, and
reporting periods. Routes are split by subject into the modules imported at the bottom.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint

from ...accounts.permissions import require
from ...extensions import db
from ...web.htmx import render
from ..forms import (
    FORM_KIND_LABELS,
    PERIOD_TYPE_LABELS,
    STATUS_LABELS,
    VALUE_TYPE_LABELS,
)
from ..models import CatalogueVersion, Form, Indicator, IndicatorGroup, Period, ValidationRule

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


@bp.route("/")
@require("form.manage")
def index():
    """Indicator system overview: what there is and where to manage it."""
    counts = {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(
        model)) for model in (CatalogueVersion, IndicatorGroup, Indicator, ValidationRule, Form,
                              Period)}
    return render("indicators/index.html", counts=counts)


from . import catalogue, editor, indicators, periods, questionnaires, rules  # noqa: E402, F401

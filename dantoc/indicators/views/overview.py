"""The indicator system overview: what there is and where to manage it."""

from __future__ import annotations

import sqlalchemy as sa

from ...accounts.permissions import require
from ...extensions import db
from ...web.htmx import render
from ..models import CatalogueVersion, Form, Indicator, IndicatorGroup, Period, ValidationRule
from .blueprint import bp


@bp.route("/")
@require("form.manage")
def index():
    """Indicator system overview: what there is and where to manage it."""
    counts = {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(
        model)) for model in (CatalogueVersion, IndicatorGroup, Indicator, ValidationRule, Form,
                              Period)}
    return render("indicators/index.html", counts=counts)

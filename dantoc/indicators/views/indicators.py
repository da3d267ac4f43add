"""The indicator list (search, filter, paginate) and the indicator form."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _

from ...accounts.permissions import authorize, require
from ...extensions import db
from ...sync import origin
from ...web.htmx import render
from ...web.inputs import db_int, page_number
from .. import services
from ..forms import NONE, IndicatorForm, IndicatorSearchForm, options
from ..models import (
    DESCRIPTION_FIELDS,
    CatalogueVersion,
    Disaggregation,
    Indicator,
    IndicatorGroup,
)
from .blueprint import bp
from .common import edit_page, group_choices, in_its_version, version_choices

PER_PAGE = 25


def _search_query(q: str | None, version_id: int | None, group_id: int | None) -> sa.Select:
    query = (sa.select(Indicator).join(IndicatorGroup).join(
        CatalogueVersion, CatalogueVersion.id == Indicator.catalogue_version_id)
        .order_by(CatalogueVersion.code, IndicatorGroup.position, IndicatorGroup.code,
                  Indicator.code))
    if q:
        pattern = f"%{q.strip()[:100]}%"
        query = query.where(sa.or_(Indicator.code.ilike(pattern), Indicator.name.ilike(pattern)))
    if version_id:
        query = query.where(Indicator.catalogue_version_id == version_id)
    if group_id:
        query = query.where(Indicator.group_id == group_id)
    return query


@bp.route("/list")
@require("form.manage")
def indicator_list():
    """Indicators, searchable by code or name, filtered by version and group; paginated."""
    form = IndicatorSearchForm(request.args)
    form.version.choices = version_choices(blank=_("All versions"))
    form.group.choices = group_choices(form.version.data, blank=_("All groups"))
    filters = {"q": form.q.data or None, "version": form.version.data or None,
               "group": form.group.data or None}
    results = db.paginate(_search_query(filters["q"], filters["version"], filters["group"]),
                       per_page=PER_PAGE, page=page_number(), error_out=False)
    args = {k: v for k, v in filters.items() if v}
    return render("indicators/indicators.html", "indicators/_indicator_rows.html",
                  form=form, results=results, args=args)


def _form_choices(form: IndicatorForm, version_id: int | None = None) -> None:
    form.group.choices = group_choices(version_id)
    form.disaggregations.choices = options((d.id, d.name) for d in db.session.scalars(
        sa.select(Disaggregation).order_by(Disaggregation.name)))


def _initial(indicator: Indicator) -> dict:
    """The form's starting values; the relationships become ids and text."""
    plain = ("code", "name", "value_type", "aggregation", "unit_of_measure", "min_value",
             "max_value", "required", "help_text", "formula", *DESCRIPTION_FIELDS)
    values = {name: getattr(indicator, name) for name in plain}
    for name in ("min_value", "max_value"):
        if values[name] is not None:  # 100.0000 from the database reads as 100
            values[name] = Decimal(f"{values[name].normalize():f}")
    return values | {
        "group": indicator.group_id or NONE, "choices": services.format_choices(indicator),
        "disaggregations": [d.id for d in indicator.disaggregations]}


@bp.route("/list/new", methods=("GET", "POST"), endpoint="indicator_create")
@bp.route("/<int:indicator_id>/edit", methods=("GET", "POST"), endpoint="indicator_edit")
@require("form.manage")
def indicator_form(indicator_id: int | None = None):
    """Add an indicator to a group, or change one (of the user's department's groups, if
    they have a department)."""
    if indicator_id is None:
        form = IndicatorForm(group=request.args.get("group", type=db_int))
        _form_choices(form)
        return edit_page(form, lambda: _write(form), "indicators.indicator_list",
                         title=_("New indicator"), then=in_its_version)
    indicator = db.get_or_404(Indicator, indicator_id)
    authorize("form.manage", indicator)
    origin.check_editable(indicator)  # the centre's: 409 with the message
    form = IndicatorForm(**_initial(indicator))
    _form_choices(form, indicator.catalogue_version_id)
    return edit_page(form, lambda: _write(form, indicator), "indicators.indicator_list",
                     title=_("Edit indicator"), subtitle=f"{indicator.code} — {indicator.name}",
                     then=in_its_version)


def _write(form: IndicatorForm, indicator: Indicator | None = None) -> Indicator:
    """Create or change the indicator; the chosen group must be one the user manages."""
    values = form.values()
    authorize("form.manage", values["group"])
    if indicator is None:
        return services.create_indicator(**values)
    return services.update_indicator(indicator, **values)


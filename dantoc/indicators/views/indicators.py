"""The indicator list (search, filter, paginate) and the indicator form."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _

from ...accounts.permissions import authorize, require
from ...extensions import db
from ...refusal import FieldError
from ...web.forms import show_error
from ...web.htmx import render
from .. import services
from ..forms import NONE, IndicatorForm, IndicatorSearchForm, options
from ..models import CatalogueVersion, Disaggregation, Indicator, IndicatorGroup
from .blueprint import bp
from .common import group_choices, saved, version_choices

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
                       per_page=PER_PAGE, error_out=False)
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
             "max_value", "required", "help_text")
    values = {name: getattr(indicator, name) for name in plain}
    for name in ("min_value", "max_value"):
        if values[name] is not None:  # 100.0000 from the database reads as 100
            values[name] = Decimal(f"{values[name].normalize():f}")
    return values | {
        "group": indicator.group_id or NONE, "choices": services.format_choices(indicator),
        "disaggregations": [d.id for d in indicator.disaggregations]}


@bp.route("/list/new", methods=("GET", "POST"))
@require("form.manage")
def indicator_create():
    """Add an indicator to a group."""
    form = IndicatorForm(group=request.args.get("group", type=int))
    _form_choices(form)
    if form.validate_on_submit():
        try:
            values = form.values()
            authorize("form.manage", values["group"])
            indicator = services.create_indicator(**values)
            return saved("indicators.indicator_list", version=indicator.catalogue_version_id)
        except FieldError as error:
            show_error(form, error)
    return render("indicators/edit.html", form=form, title=_("New indicator"),
                  back=url_for("indicators.indicator_list"))


@bp.route("/<int:indicator_id>/edit", methods=("GET", "POST"))
@require("form.manage")
def indicator_edit(indicator_id: int):
    """Change an indicator (of the user's department's groups, if they have a department)."""
    indicator = db.get_or_404(Indicator, indicator_id)
    authorize("form.manage", indicator)
    form = IndicatorForm(**_initial(indicator))
    _form_choices(form, indicator.catalogue_version_id)
    if form.validate_on_submit():
        try:
            values = form.values()
            authorize("form.manage", values["group"])
            services.update_indicator(indicator, **values)
            return saved("indicators.indicator_list", version=indicator.catalogue_version_id)
        except FieldError as error:
            show_error(form, error)
    return render("indicators/edit.html", form=form, title=_("Edit indicator"),
                  subtitle=f"{indicator.code} — {indicator.name}",
                  back=url_for("indicators.indicator_list"))

"""Cross-field validation rules of a catalogue version."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _

from ...accounts.permissions import require
from ...extensions import db
from ...web.htmx import render
from ...web.inputs import db_int
from .. import services
from ..forms import RuleForm
from ..models import CatalogueVersion, ValidationRule
from ..rules import RuleError, parse
from .blueprint import bp
from .common import edit_page, in_its_version, version_choices


@bp.route("/rules")
@require("form.manage")
def rules():
    """The rules of one catalogue version (or all), with the indicators each concerns."""
    version_id = request.args.get("version", type=db_int)
    query = sa.select(ValidationRule).join(CatalogueVersion).order_by(
        CatalogueVersion.code, ValidationRule.code)
    if version_id:
        query = query.where(ValidationRule.catalogue_version_id == version_id)
    rows = [(rule, _codes(rule)) for rule in db.session.scalars(query)]
    return render("indicators/rules.html", rows=rows, versions=version_choices(),
                  version_id=version_id)


def _codes(rule: ValidationRule) -> tuple[str, ...]:
    try:
        return parse(rule.expression, services.rule_codes(rule.catalogue_version_id)).codes
    except RuleError:
        return ()


@bp.route("/rules/new", methods=("GET", "POST"), endpoint="rule_create")
@bp.route("/rules/<int:rule_id>/edit", methods=("GET", "POST"), endpoint="rule_edit")
@require("form.manage")
def rule_form(rule_id: int | None = None):
    """Add a rule to a catalogue version, or change one; the parser's message shows at the
    rule field."""
    rule = db.get_or_404(ValidationRule, rule_id) if rule_id else None
    if rule is None:
        form = RuleForm(catalogue_version=request.args.get("version", type=db_int))
        form.catalogue_version.choices = version_choices()
        return edit_page(form, lambda: services.create_rule(
            catalogue_version=db.get_or_404(CatalogueVersion, form.catalogue_version.data),
            **form.values()), "indicators.rules", title=_("New rule"), then=in_its_version)
    form = RuleForm(obj=rule)
    del form.catalogue_version
    codes = ", ".join(sorted(services.rule_codes(rule.catalogue_version_id)))
    return edit_page(form, lambda: services.update_rule(rule, **form.values()),
                     "indicators.rules", title=_("Edit rule"),
                     subtitle=_("Indicator codes you can use: %(codes)s", codes=codes or "—"),
                     then=in_its_version)

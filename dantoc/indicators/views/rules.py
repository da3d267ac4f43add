"""Cross-field validation rules of a catalogue version."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _

from ...accounts.permissions import require
from ...extensions import db
from ...refusal import FieldError
from ...web.forms import show_error
from ...web.htmx import render
from .. import services
from ..forms import RuleForm
from ..models import CatalogueVersion, ValidationRule
from ..rules import RuleError, parse
from .blueprint import bp
from .common import saved, version_choices


@bp.route("/rules")
@require("form.manage")
def rules():
    """The rules of one catalogue version (or all), with the indicators each concerns."""
    version_id = request.args.get("version", type=int)
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


@bp.route("/rules/new", methods=("GET", "POST"))
@require("form.manage")
def rule_create():
    """Add a rule; the parser's message shows at the rule field."""
    form = RuleForm(catalogue_version=request.args.get("version", type=int))
    form.catalogue_version.choices = version_choices()
    if form.validate_on_submit():
        try:
            version = db.get_or_404(CatalogueVersion, form.catalogue_version.data)
            services.create_rule(catalogue_version=version, **form.values())
            return saved("indicators.rules", version=version.id)
        except FieldError as error:
            show_error(form, error)
    return render("indicators/edit.html", form=form, title=_("New rule"),
                  back=url_for("indicators.rules"))


@bp.route("/rules/<int:rule_id>/edit", methods=("GET", "POST"))
@require("form.manage")
def rule_edit(rule_id: int):
    """Change a rule of its catalogue version."""
    rule = db.get_or_404(ValidationRule, rule_id)
    form = RuleForm(obj=rule)
    del form.catalogue_version
    if form.validate_on_submit():
        try:
            services.update_rule(rule, **form.values())
            return saved("indicators.rules", version=rule.catalogue_version_id)
        except FieldError as error:
            show_error(form, error)
    codes = ", ".join(sorted(services.rule_codes(rule.catalogue_version_id)))
    return render("indicators/edit.html", form=form, title=_("Edit rule"),
                  subtitle=_("Indicator codes you can use: %(codes)s", codes=codes or "—"),
                  back=url_for("indicators.rules"))

"""Forms (biểu, phiếu): list, create, edit, publish, new version and preview."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, url_for
from flask_babel import gettext as _

from ...accounts.permissions import require
from ...extensions import db
from ...sync import origin
from ...web.forms import submitted
from ...web.htmx import render
from .. import services
from ..forms import ActionForm, FormForm
from ..models import Form, FormVersion
from ..rules import RuleError, parse
from .blueprint import bp
from .common import edit_page, level_choices, version_choices


@bp.route("/forms")
@require("form.manage")
def forms():
    """Every form with its versions and their status."""
    rows = db.session.scalars(sa.select(Form).order_by(Form.code)).all()
    return render("indicators/forms.html", forms=rows)


@bp.route("/forms/new", methods=("GET", "POST"))
@require("form.manage")
def form_create():
    """Add a form; it starts with an empty draft version 1."""
    form = FormForm()
    form.catalogue_version.choices = version_choices()
    form.fill_level.choices = level_choices()
    done, created = submitted(form, lambda: services.create_form(**form.values(creating=True)))
    if done:
        return redirect(url_for("indicators.version", version_id=created.versions[0].id),
                        code=303)
    return render("indicators/edit.html", form=form, title=_("New form"),
                  back=url_for("indicators.forms"))


@bp.route("/forms/<int:form_id>/edit", methods=("GET", "POST"))
@require("form.manage")
def form_edit(form_id: int):
    """Change a form's code, kind, name and legal basis."""
    record = db.get_or_404(Form, form_id)
    origin.check_editable(record)  # the centre's: 409 with the message
    form = FormForm(obj=record)
    for name in ("catalogue_version", "fill_level", "period_type"):
        delattr(form, name)
    return edit_page(form, lambda: services.update_form(record, **form.values(creating=False)),
                     "indicators.forms", title=_("Edit form"),
                     subtitle=record.catalogue_version.name)


@bp.route("/versions/<int:version_id>/publish", methods=("POST",))
@require("form.manage")
def version_publish(version_id: int):
    """Publish a draft version: from now on it never changes."""
    version = db.get_or_404(FormVersion, version_id)
    if _button(lambda: services.publish(version)):
        flash(_("Version %(n)s is published.", n=version.number))
    return redirect(url_for("indicators.version", version_id=version_id), code=303)


@bp.route("/forms/<int:form_id>/new-version", methods=("POST",))
@require("form.manage")
def version_new(form_id: int):
    """Copy the latest version of a form into a new draft."""
    record = db.get_or_404(Form, form_id)
    draft = _button(lambda: services.new_version(record))
    if draft is not None:
        return redirect(url_for("indicators.version", version_id=draft.id), code=303)
    return redirect(url_for("indicators.forms"), code=303)


def _button(write):
    """A button's POST (no fields): run ``write`` and commit, and return what it returned;
    a refusal is flashed above the page it goes back to (None)."""
    form = ActionForm()
    done, result = submitted(form, write)
    for message in form.form_errors:
        flash(message)
    return result if done else None


@bp.route("/versions/<int:version_id>/preview")
@require("form.manage")
def version_preview(version_id: int):
    """The questionnaire as its respondents will see it, with the rules that apply."""
    version = db.get_or_404(FormVersion, version_id)
    codes = {item.indicator.code for section in version.sections for item in section.items}
    return render("indicators/preview.html", version=version, form=version.form,
                  rules=_rules_for(version.form.catalogue_version_id, codes))


def _rules_for(catalogue_version_id: int, codes: set[str]) -> list:
    """The rules whose indicators are all in the form."""
    known = services.rule_codes(catalogue_version_id)
    found = []
    for rule in services.rules_of(catalogue_version_id):
        try:
            parsed = parse(rule.expression, known)
        except RuleError:
            continue
        if parsed.codes and set(parsed.codes) <= codes:
            found.append(rule)
    return found

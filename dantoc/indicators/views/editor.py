"""The form version editor: settings, sections and ordered items, with HTMX swaps."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, url_for

from ...accounts.permissions import require
from ...extensions import db
from ...refusal import FieldError
from ...web.forms import show_error
from ...web.htmx import render, wants_fragment
from .. import services
from ..forms import ActionForm, ItemForm, SectionForm, VersionSettingsForm, options
from ..models import FormItem, FormSection, FormVersion, Indicator, IndicatorGroup
from .blueprint import bp
from .common import level_choices

DIRECTIONS = {"up": -1, "down": 1}


def _item_form(version: FormVersion, form: ItemForm | None = None) -> ItemForm:
    """The add-an-indicator form: sections, and indicators not yet in the version by group."""
    form = form or ItemForm(formdata=None)
    form.section.choices = options((s.id, f"{s.position}. {s.title}") for s in version.sections)
    used = {i.indicator_id for s in version.sections for i in s.items}
    choices = []
    for indicator in db.session.scalars(sa.select(Indicator).join(IndicatorGroup).where(
            Indicator.catalogue_version_id == version.form.catalogue_version_id,
            Indicator.formula.is_(None)).order_by(
            IndicatorGroup.position, IndicatorGroup.code, Indicator.code)):
        if indicator.id not in used:
            choices += options([(indicator.id, f"{indicator.code} — {indicator.name}")],
                               optgroup=indicator.group.name)
    form.indicator.choices = choices
    return form


def _page(version: FormVersion, problem: str | None = None, **forms):
    """The editor page (or just its sections for an HTMX swap)."""
    settings = forms.get("settings") or VersionSettingsForm(
        formdata=None, fill_level=version.fill_level_id, period_type=version.period_type)
    settings.fill_level.choices = level_choices(keep=version.fill_level_id)
    return render("indicators/version.html", "indicators/_version_sections.html",
                  version=version, form=version.form, action=ActionForm(), problem=problem,
                  settings=settings, section_form=forms.get("section") or SectionForm(
                      formdata=None), item_form=_item_form(version, forms.get("item")))


@bp.route("/versions/<int:version_id>")
@require("form.manage")
def version(version_id: int):
    """Edit a draft version's sections and items, or read a published one."""
    return _page(db.get_or_404(FormVersion, version_id))


def _refused(form, error: FieldError, version_id: int, name: str):
    """A refused change: the message at its field, or above the editor (published, …)."""
    db.session.rollback()
    if error.field is None:
        return _done(version_id, error.message)
    show_error(form, error)
    version = db.session.get(FormVersion, version_id)
    if name == "item":
        form = _item_form(version, form)
    return _page(version, **{name: form})


def _done(version_id: int, problem: str | None = None):
    """After a change (or a refused one): the editor fragment for HTMX, else the page."""
    if problem is None:
        db.session.commit()
    if wants_fragment():
        return _page(db.session.get(FormVersion, version_id), problem=problem)
    if problem:
        flash(problem)
    return redirect(url_for("indicators.version", version_id=version_id), code=303)


@bp.route("/versions/<int:version_id>/settings", methods=("POST",))
@require("form.manage")
def version_settings(version_id: int):
    """Change who fills a draft version and how often."""
    version = db.get_or_404(FormVersion, version_id)
    form = VersionSettingsForm()
    form.fill_level.choices = level_choices(keep=version.fill_level_id)
    if form.validate_on_submit():
        try:
            services.update_version(version, **form.values())
            return _done(version_id)
        except FieldError as error:
            return _refused(form, error, version_id, "settings")
    return _page(version, settings=form)


@bp.route("/versions/<int:version_id>/sections", methods=("POST",))
@require("form.manage")
def section_add(version_id: int):
    """Append a section to a draft version."""
    version = db.get_or_404(FormVersion, version_id)
    form = SectionForm()
    if form.validate_on_submit():
        try:
            services.add_section(version, form.title.data)
            return _done(version_id)
        except FieldError as error:
            return _refused(form, error, version_id, "section")
    return _page(version, section=form)


@bp.route("/sections/<int:section_id>/move/<direction>", methods=("POST",),
          endpoint="section_move")
@bp.route("/sections/<int:section_id>/remove", methods=("POST",), endpoint="section_remove")
@require("form.manage")
def section_button(section_id: int, direction: str | None = None):
    """Move a section up or down, or (no direction) remove it and its items."""
    return _act(db.get_or_404(FormSection, section_id), direction, services.move_section,
                services.remove_section)


@bp.route("/versions/<int:version_id>/items", methods=("POST",))
@require("form.manage")
def item_add(version_id: int):
    """Append an indicator to a section."""
    version = db.get_or_404(FormVersion, version_id)
    form = _item_form(version, ItemForm())
    if form.validate_on_submit():
        section = db.get_or_404(FormSection, form.section.data)  # one of this version's
        try:
            services.add_item(section, form.indicator_obj())
            return _done(version_id)
        except FieldError as error:
            return _refused(form, error, version_id, "item")
    return _page(version, item=_item_form(version, form))


@bp.route("/items/<int:item_id>/move/<direction>", methods=("POST",), endpoint="item_move")
@bp.route("/items/<int:item_id>/remove", methods=("POST",), endpoint="item_remove")
@require("form.manage")
def item_button(item_id: int, direction: str | None = None):
    """Move an item up or down within its section, or (no direction) take it out."""
    return _act(db.get_or_404(FormItem, item_id), direction, services.move_item,
                services.remove_item)


def _act(obj: FormSection | FormItem, direction: str | None, move, remove):
    """A button on a section or item: move it (``direction`` up or down) or remove it, then
    show the editor again."""
    version_id = obj.form_version_id
    if not ActionForm().validate_on_submit():
        return _done(version_id)
    try:
        if direction is None:
            remove(obj)
        else:
            move(obj, DIRECTIONS.get(direction, 0))
    except FieldError as error:
        db.session.rollback()
        return _done(version_id, error.message)
    return _done(version_id)

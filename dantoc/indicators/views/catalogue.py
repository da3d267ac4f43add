"""Catalogue versions and indicator groups."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _

from ...accounts.permissions import authorize, require
from ...extensions import db
from ...refusal import FieldError
from ...web.forms import show_error
from ...web.htmx import render
from .. import services
from ..forms import NONE, CatalogueVersionForm, GroupForm
from ..models import CatalogueVersion, IndicatorGroup
from .blueprint import bp
from .common import department_choices, saved, version_choices


@bp.route("/catalogues")
@require("form.manage")
def catalogues():
    """The versions of the indicator system, newest first."""
    rows = db.session.scalars(sa.select(CatalogueVersion).order_by(
        CatalogueVersion.valid_from.desc(), CatalogueVersion.code)).all()
    return render("indicators/catalogues.html", versions=rows)


@bp.route("/catalogues/new", methods=("GET", "POST"))
@require("form.manage")
def catalogue_create():
    """Add a version of the indicator system."""
    return _catalogue_form(None)


@bp.route("/catalogues/<int:version_id>/edit", methods=("GET", "POST"))
@require("form.manage")
def catalogue_edit(version_id: int):
    """Change a catalogue version."""
    return _catalogue_form(db.get_or_404(CatalogueVersion, version_id))


def _catalogue_form(version: CatalogueVersion | None):
    form = CatalogueVersionForm(obj=version)
    if form.validate_on_submit():
        try:
            if version is None:
                services.create_catalogue_version(**form.values())
            else:
                services.update_catalogue_version(version, **form.values())
            return saved("indicators.catalogues")
        except FieldError as error:
            show_error(form, error)
    title = _("New catalogue version") if version is None else _("Edit catalogue version")
    return render("indicators/edit.html", form=form, title=title,
                  back=url_for("indicators.catalogues"))


@bp.route("/groups")
@require("form.manage")
def groups():
    """Indicator groups, optionally of one catalogue version."""
    version_id = request.args.get("version", type=int)
    query = sa.select(IndicatorGroup).join(CatalogueVersion).order_by(
        CatalogueVersion.code, IndicatorGroup.position, IndicatorGroup.code)
    if version_id:
        query = query.where(IndicatorGroup.catalogue_version_id == version_id)
    return render("indicators/groups.html", groups=db.session.scalars(query).all(),
                  versions=version_choices(), version_id=version_id)


@bp.route("/groups/new", methods=("GET", "POST"))
@require("form.manage")
def group_create():
    """Add an indicator group."""
    form = GroupForm(catalogue_version=request.args.get("version", type=int))
    form.catalogue_version.choices = version_choices()
    form.department.choices = department_choices()
    if form.validate_on_submit():
        values = form.values()
        if values["department"] is not None:
            authorize("form.manage", values["department"])
        try:
            services.create_group(**values)
            return saved("indicators.groups", version=form.catalogue_version.data)
        except FieldError as error:
            show_error(form, error)
    return render("indicators/edit.html", form=form, title=_("New indicator group"),
                  back=url_for("indicators.groups"))


@bp.route("/groups/<int:group_id>/edit", methods=("GET", "POST"))
@require("form.manage")
def group_edit(group_id: int):
    """Change an indicator group (of the user's department, if they have one)."""
    group = db.get_or_404(IndicatorGroup, group_id)
    authorize("form.manage", group)
    form = GroupForm(code=group.code, name=group.name, position=group.position,
                     department=group.department_id or NONE)
    del form.catalogue_version
    form.department.choices = department_choices()
    if form.validate_on_submit():
        try:
            services.update_group(group, **form.values(with_version=False))
            return saved("indicators.groups", version=group.catalogue_version_id)
        except FieldError as error:
            show_error(form, error)
    return render("indicators/edit.html", form=form, title=_("Edit indicator group"),
                  subtitle=group.catalogue_version.name, back=url_for("indicators.groups"))

"""Catalogue versions and indicator groups."""

from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _

from ...accounts.permissions import authorize, require
from ...extensions import db
from ...sync import origin
from ...web.htmx import render
from ...web.inputs import db_int
from .. import services
from ..forms import NONE, CatalogueVersionForm, GroupForm
from ..models import CatalogueVersion, IndicatorGroup
from .blueprint import bp
from .common import department_choices, edit_page, in_its_version, version_choices


@bp.route("/catalogues")
@require("form.manage")
def catalogues():
    """The versions of the indicator system, newest first."""
    rows = db.session.scalars(sa.select(CatalogueVersion).order_by(
        CatalogueVersion.valid_from.desc(), CatalogueVersion.code)).all()
    return render("indicators/catalogues.html", versions=rows)


@bp.route("/catalogues/new", methods=("GET", "POST"), endpoint="catalogue_create")
@bp.route("/catalogues/<int:version_id>/edit", methods=("GET", "POST"),
          endpoint="catalogue_edit")
@require("form.manage")
def catalogue_form(version_id: int | None = None):
    """Add a version of the indicator system, or change one."""
    version = db.get_or_404(CatalogueVersion, version_id) if version_id else None
    if version is not None:
        origin.check_editable(version)  # the centre's: 409 with the message
    form = CatalogueVersionForm(obj=version)

    def write():
        if version is None:
            return services.create_catalogue_version(**form.values())
        return services.update_catalogue_version(version, **form.values())

    title = _("New catalogue version") if version is None else _("Edit catalogue version")
    return edit_page(form, write, "indicators.catalogues", title=title)


@bp.route("/groups")
@require("form.manage")
def groups():
    """Indicator groups, optionally of one catalogue version."""
    version_id = request.args.get("version", type=db_int)
    query = sa.select(IndicatorGroup).join(CatalogueVersion).order_by(
        CatalogueVersion.code, IndicatorGroup.position, IndicatorGroup.code)
    if version_id:
        query = query.where(IndicatorGroup.catalogue_version_id == version_id)
    return render("indicators/groups.html", groups=db.session.scalars(query).all(),
                  versions=version_choices(), version_id=version_id)


@bp.route("/groups/new", methods=("GET", "POST"), endpoint="group_create")
@bp.route("/groups/<int:group_id>/edit", methods=("GET", "POST"), endpoint="group_edit")
@require("form.manage")
def group_form(group_id: int | None = None):
    """Add an indicator group, or change one (of the user's department, if they have one)."""
    group = db.get_or_404(IndicatorGroup, group_id) if group_id else None
    if group is None:
        form = GroupForm(catalogue_version=request.args.get("version", type=db_int))
        form.catalogue_version.choices = version_choices()
        form.department.choices = department_choices()
        return edit_page(form, lambda: _write_group(form), "indicators.groups",
                         title=_("New indicator group"), then=in_its_version)
    authorize("form.manage", group)
    origin.check_editable(group)
    form = GroupForm(code=group.code, name=group.name, position=group.position,
                     department=group.department_id or NONE)
    del form.catalogue_version
    form.department.choices = department_choices()
    return edit_page(form, lambda: services.update_group(group, **form.values(
        with_version=False)), "indicators.groups", title=_("Edit indicator group"),
        subtitle=group.catalogue_version.name, then=in_its_version)


def _write_group(form: GroupForm) -> IndicatorGroup:
    """Create the group; a department given must be one the user manages."""
    values = form.values()
    if values["department"] is not None:
        authorize("form.manage", values["department"])
    return services.create_group(**values)

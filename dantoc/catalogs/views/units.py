"""Administrative units: list, tree on a date, detail with lineage, create, edit, close, link."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import clock
from ...accounts.permissions import authorize, can, require
from ...extensions import db
from ...sync import origin
from ...web.forms import submitted
from ...web.htmx import render
from ...web.inputs import page_number
from .. import queries, services
from ..forms import (
    FIELD_ALIASES,
    CloseUnitForm,
    DateFilterForm,
    LineageForm,
    UnitFilterForm,
    UnitForm,
)
from ..models import UNKNOWN_START, AdminUnit, UnitType
from .blueprint import bp

# Pages ----------------------------------------------------------------------------------------

@bp.route("/units")
@require("catalog.view")
def units():
    """Units matching the filters; a search-as-you-type request gets only the rows."""
    form = UnitFilterForm(request.args).fill()
    if "on" not in request.args:
        form.on.data = clock.today()
    form.validate()
    stmt = queries.units_query(on=None if form.on.errors else form.on.data,
                               level=form.level.data or None, q=form.q.data)
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], page=page_number(),
                       error_out=False)
    args = {"q": form.q.data or "", "level": form.level.data or "",
            "on": form.on.data.isoformat() if form.on.data else ""}
    return render("catalogs/units.html", "catalogs/_unit_rows.html", form=form, results=page,
                  args=args)


@bp.route("/units/tree")
@require("catalog.view")
def tree():
    """The unit tree as it stood on a date (today by default), with the levels in use."""
    form = DateFilterForm(request.args)
    day = form.on.data if form.validate() and form.on.data else clock.today()
    form.on.data = day
    return render("catalogs/tree.html", form=form, day=day, roots=queries.tree_on(day),
                  levels=queries.levels_in_use(day))


@bp.route("/units/<int:unit_id>")
@require("catalog.view")
def unit_detail(unit_id: int):
    """One unit version: its other versions, parent, children and lineage."""
    return _detail(db.get_or_404(AdminUnit, unit_id))


def _next_day(unit: AdminUnit) -> date | None:
    """The day after the unit's last day (the default start of its successor), if any."""
    if unit.valid_to is None or unit.valid_to >= date.max:
        return None
    return unit.valid_to + timedelta(days=1)


def _detail(unit: AdminUnit, close_form=None, lineage_form=None):
    return render(
        "catalogs/unit_detail.html", unit=unit, versions=queries.versions(unit.code),
        children=queries.children(unit), predecessors=queries.predecessors(unit),
        successors=queries.successors(unit),
        close_form=close_form or CloseUnitForm(formdata=None),
        lineage_form=lineage_form or LineageForm(formdata=None, effective_date=_next_day(unit)),
        can_manage=can(current_user, "catalog.manage", unit))


# Actions --------------------------------------------------------------------------------------

def _authorize(unit: AdminUnit | None) -> None:
    """Writes stay inside the user's scope (the subtree of their unit)."""
    if unit is not None:
        authorize("catalog.manage", unit)


def _start(form: UnitForm, unit: AdminUnit | None):
    """The start date; left empty, an unresearched start stays unresearched."""
    if form.valid_from.data is None and unit is not None and unit.valid_from == UNKNOWN_START:
        return UNKNOWN_START
    return form.valid_from.data


def _unit_fields(form: UnitForm, unit: AdminUnit | None) -> dict:
    parent = services.parent_for(form.parent_code.data, _start(form, unit))
    if unit is None or parent is not unit.parent:
        _authorize(parent)  # a unit may only be put under a unit in the user's scope
    return {"code": form.code.data, "name": form.name.data, "parent": parent,
            "unit_type": db.session.get(UnitType, form.unit_type.data),
            "valid_from": _start(form, unit), "valid_to": form.valid_to.data,
            "aliases": form.aliases.data, "source": form.source.data,
            "is_sample": form.is_sample.data}


def _save(form: UnitForm, unit: AdminUnit | None) -> AdminUnit | None:
    """Create or correct a unit from a valid POST of the form; None when not posted, not valid
    or refused (the message is then on the form)."""
    def write():
        fields = _unit_fields(form, unit)
        return services.update_unit(unit, **fields) if unit else services.create_unit(**fields)

    done, saved = submitted(form, write, FIELD_ALIASES)
    if done:
        flash(_("The unit was saved."))
    return saved


@bp.route("/units/new", methods=("GET", "POST"))
@require("catalog.manage")
def unit_create():
    """A new unit version, e.g. a village (thôn, bản) under a commune."""
    form = UnitForm(data={"parent_code": request.args.get("parent", ""),
                          "valid_from": clock.today()}).fill()
    if unit := _save(form, None):
        return redirect(url_for(".unit_detail", unit_id=unit.id), code=303)
    return render("catalogs/unit_form.html", form=form, unit=None)


@bp.route("/units/<int:unit_id>/edit", methods=("GET", "POST"))
@require("catalog.manage")
def unit_edit(unit_id: int):
    """Correct a unit version in place (a real change is a new version plus a link)."""
    unit = db.get_or_404(AdminUnit, unit_id)
    _authorize(unit)
    origin.check_editable(unit)  # the centre's: 409 with the message
    data = {name: getattr(unit, name) for name in (
        "code", "name", "valid_from", "valid_to", "aliases", "source", "is_sample")}
    unknown_start = data["valid_from"] == UNKNOWN_START
    form = UnitForm(data={**data, "valid_from": None if unknown_start else unit.valid_from,
                          "unit_type": unit.unit_type_id,
                          "parent_code": unit.parent.code if unit.parent else ""}).fill()
    if unknown_start:
        form.allow_unknown_start()
    if _save(form, unit):
        return redirect(url_for(".unit_detail", unit_id=unit.id), code=303)
    return render("catalogs/unit_form.html", form=form, unit=unit)


@bp.route("/units/<int:unit_id>/close", methods=("POST",))
@require("catalog.manage")
def unit_close(unit_id: int):
    """End a unit version on a given last day."""
    form = CloseUnitForm()
    return _on_unit(unit_id, form, "close_form", _("The unit was closed."),
                    lambda unit: services.close_unit(unit, form.valid_to.data))


@bp.route("/units/<int:unit_id>/lineage", methods=("POST",))
@require("catalog.manage")
def lineage_add(unit_id: int):
    """Record that this unit went (wholly or partly) into a later unit."""
    form = LineageForm()
    return _on_unit(unit_id, form, "lineage_form", _("The link was recorded."),
                    lambda unit: services.add_lineage(
                        kind=form.kind.data, from_unit=unit,
                        to_unit=queries.resolve(form.to_code.data.strip(),
                                                form.effective_date.data),
                        effective_date=form.effective_date.data, share=form.share.data,
                        legal_basis=form.legal_basis.data))


def _on_unit(unit_id: int, form, name: str, message: str, write):
    """A form on the unit page: on success back to the page with ``message``, else the page
    with the form (``name``) and its messages."""
    unit = db.get_or_404(AdminUnit, unit_id)
    _authorize(unit)
    done, _result = submitted(form, lambda: write(unit), FIELD_ALIASES)
    if done:
        flash(message)
        return redirect(url_for(".unit_detail", unit_id=unit.id), code=303)
    return _detail(unit, **{name: form})

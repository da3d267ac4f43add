"""Helpers shared by the indicator views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ... import clock
from ...catalogs.models import AdminLevel, Department
from ...extensions import db
from ...web.forms import submitted
from ...web.htmx import render
from ..forms import NONE, options
from ..models import CatalogueVersion, IndicatorGroup


def saved(endpoint: str, **values):
    """Say so, and go on with a 303 (the POST/redirect/GET pattern)."""
    flash(_("Saved."))
    return redirect(url_for(endpoint, **values), code=303)


def in_its_version(obj: Any) -> dict:
    """The URL values of a list filtered to the catalogue version of ``obj``."""
    return {"version": obj.catalogue_version_id}


def edit_page(form: FlaskForm, write: Callable[[], Any], endpoint: str, *, title: str,
              subtitle: str | None = None, then: Callable[[Any], dict] | None = None):
    """The shared editor page (``indicators/edit.html``): a valid POST runs ``write`` (the
    service call), commits and goes on to ``endpoint`` (URL values: ``then(what write
    returned)``); otherwise the form again, with a refusal at its field."""
    done, result = submitted(form, write)
    if done:
        return saved(endpoint, **(then(result) if then else {}))
    return render("indicators/edit.html", form=form, title=title, subtitle=subtitle,
                  back=url_for(endpoint))


def version_choices(blank: str | None = None) -> list:
    """Catalogue versions for a select, newest first."""
    rows = db.session.scalars(sa.select(CatalogueVersion).order_by(
        CatalogueVersion.valid_from.desc(), CatalogueVersion.code))
    return options(([(NONE, blank)] if blank else []) + [(v.id, f"{v.code} — {v.name}")
                                                          for v in rows])


def group_choices(version_id: int | None = None,
                  blank: str | None = None) -> list:
    """Indicator groups for a select, optionally of one catalogue version."""
    query = sa.select(IndicatorGroup).join(CatalogueVersion).order_by(
        CatalogueVersion.code, IndicatorGroup.position, IndicatorGroup.code)
    if version_id:
        query = query.where(IndicatorGroup.catalogue_version_id == version_id)
    rows = db.session.scalars(query)
    return options(([(NONE, blank)] if blank else []) + [
        (g.id, f"{g.catalogue_version.code} · {g.code} — {g.name}") for g in rows])


def department_choices() -> list:
    """Departments for a select, with a "none" option first."""
    rows = db.session.scalars(sa.select(Department).order_by(Department.name))
    return options([(NONE, _("— none —"))] + [(d.id, d.name) for d in rows])


def level_choices(keep: int | None = None) -> list:
    """The administrative levels in use today, top down (no district level after the 2025
    reform), plus ``keep``, the level a version already has."""
    day = clock.today()
    valid = sa.and_(AdminLevel.valid_from <= day,
                    sa.or_(AdminLevel.valid_to.is_(None), AdminLevel.valid_to >= day))
    where = sa.or_(valid, AdminLevel.id == keep) if keep is not None else valid
    rows = db.session.scalars(sa.select(AdminLevel).where(where).order_by(AdminLevel.rank))
    return options((level.id, level.name) for level in rows)

"""Reporting periods: list, create, edit, and generate a year's standard periods."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from ... import clock
from ...accounts.permissions import require
from ...extensions import db
from ...web.forms import submitted
from ...web.htmx import render
from ...web.inputs import db_int
from .. import services
from ..forms import GeneratePeriodsForm, PeriodForm
from ..models import Period
from .blueprint import bp
from .common import edit_page


def _list(generate: GeneratePeriodsForm | None = None):
    year = request.args.get("year", type=db_int)
    query = sa.select(Period).order_by(Period.start_date.desc(), Period.period_type)
    if year:
        query = query.where(sa.extract("year", Period.start_date) == year)
    generate = generate or GeneratePeriodsForm(formdata=None, year=clock.today().year)
    return render("indicators/periods.html", periods=db.session.scalars(query).all(),
                  today=clock.today(), generate=generate, year=year)


@bp.route("/periods")
@require("form.manage")
def periods():
    """Reporting periods, newest first, with whether reporting is open today."""
    return _list()


@bp.route("/periods/generate", methods=("POST",))
@require("form.manage")
def periods_generate():
    """Create the missing standard periods of one type in a year."""
    form = GeneratePeriodsForm()
    done, made = submitted(form, lambda: services.generate_periods(**form.values()))
    if not done:
        return _list(form)
    flash(_("%(n)s periods created.", n=len(made)))
    return redirect(url_for("indicators.periods", year=form.year.data), code=303)


@bp.route("/periods/new", methods=("GET", "POST"), endpoint="period_create")
@bp.route("/periods/<int:period_id>/edit", methods=("GET", "POST"), endpoint="period_edit")
@require("form.manage")
def period_form(period_id: int | None = None):
    """Add one period (a custom period needs a cut-off date), or change a period's name and
    reporting window (and a custom period's dates)."""
    period = db.get_or_404(Period, period_id) if period_id else None
    form = PeriodForm(obj=period)
    if period is None:
        return edit_page(form, lambda: services.create_period(**form.values()),
                         "indicators.periods", title=_("New reporting period"))
    del form.period_type
    return edit_page(form, lambda: services.update_period(period, **form.values()),
                     "indicators.periods", title=_("Edit reporting period"),
                     subtitle=period.name)

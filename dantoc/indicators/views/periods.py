"""Reporting periods: list, create, edit, and generate a year's standard periods."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from ... import clock
from ...accounts.permissions import require
from ...extensions import db
from ...refusal import FieldError
from ...web.forms import show_error
from ...web.htmx import render
from .. import services
from ..forms import GeneratePeriodsForm, PeriodForm
from ..models import Period
from .blueprint import bp
from .common import saved


def _list(generate: GeneratePeriodsForm | None = None):
    year = request.args.get("year", type=int)
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
    if form.validate_on_submit():
        try:
            made = services.generate_periods(**form.values())
            db.session.commit()
            flash(_("%(n)s periods created.", n=len(made)))
            return redirect(url_for("indicators.periods", year=form.year.data), code=303)
        except FieldError as error:
            show_error(form, error)
    return _list(form)


@bp.route("/periods/new", methods=("GET", "POST"))
@require("form.manage")
def period_create():
    """Add one period; a custom period needs a cut-off date."""
    form = PeriodForm()
    if form.validate_on_submit():
        try:
            services.create_period(**form.values())
            return saved("indicators.periods")
        except FieldError as error:
            show_error(form, error)
    return render("indicators/edit.html", form=form, title=_("New reporting period"),
                  back=url_for("indicators.periods"))


@bp.route("/periods/<int:period_id>/edit", methods=("GET", "POST"))
@require("form.manage")
def period_edit(period_id: int):
    """Change a period's name, reporting window (and a custom period's dates)."""
    period = db.get_or_404(Period, period_id)
    form = PeriodForm(obj=period)
    del form.period_type
    if form.validate_on_submit():
        try:
            services.update_period(period, **form.values())
            return saved("indicators.periods")
        except FieldError as error:
            show_error(form, error)
    return render("indicators/edit.html", form=form, title=_("Edit reporting period"),
                  subtitle=period.name, back=url_for("indicators.periods"))

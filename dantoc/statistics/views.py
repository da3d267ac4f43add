"""Public statistics (thống kê) and their publication.

Public, no sign-in, no JavaScript needed: the list of published releases (form × period),
a release (figures by ethnic group and by commune), one commune, and the CSV of a table.
Every public answer is ``Cache-Control: public`` with an ETag that changes with what it
shows, so a phone on a weak signal revalidates with a 304.

Staff (``report.publish``): the approved commune reports in scope with publish and withdraw
(a reason) actions; each acts on the publication version the page showed.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, NumberRange

from ..accounts.permissions import authorize, public, require
from ..extensions import db
from ..i18n.formatting import format_period
from ..i18n.selection import current_locale
from ..refusal import Refusal
from ..reports import queries as report_queries
from ..reports import states as report_states
from ..reports.models import UnitReport
from ..web.downloads import CSV, attachment
from ..web.errors import refuse
from ..web.htmx import render
from . import services, states, suppression, tables

bp = Blueprint("statistics", __name__, url_prefix="/thong-ke")
MAX_AGE = 300


# Public pages ------------------------------------------------------------------------------

def _cached(response, tag: str):
    """Public caching with a validator: 304 when the phone already has this version."""
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    response.set_etag(tag)
    return response.make_conditional(request)


def _tag(*parts: str) -> str:
    return "-".join((tables.LAYOUT, current_locale().tag, *parts))


def _release_or_404(form_code: str, period_code: str):
    found = tables.find_release(form_code, period_code)
    if found is None:
        abort(404)
    return found


def _unless_modified(tag: str) -> None:
    """Answer 304 at once (``abort``) when the phone has this version of the page, before
    any figure is computed. Flask-Compress sends the ETag of a compressed answer as
    ``<tag>:gzip`` (or ``:br``); the phone sends that one back."""
    for sent in request.if_none_match.as_set():
        if sent == tag or sent.startswith(tag + ":"):
            response = make_response("", 304)
            _cached(response, tag)
            response.set_etag(sent)
            abort(response)


@bp.route("/")
@public
def index():
    """The published releases, newest period first."""
    found = tables.releases()
    tag = _tag("index", *(f"{r.form.id}.{r.period.id}.{r.communes}" for r in found))
    _unless_modified(tag)
    return _cached(make_response(render("statistics/index.html", releases=found)), tag)


@bp.route("/<form_code>/<period_code>/")
@public
def release(form_code: str, period_code: str):
    """Figures of one release: by ethnic group (column totals) and by commune (row totals)."""
    form, period, tag = _release(form_code, period_code)
    data, _data = _built(form, period, lambda data: data)
    return _cached(make_response(render("statistics/release.html", data=data,
                                        total=suppression.TOTAL, cell=_shown)), tag)


@bp.route("/<form_code>/<period_code>/xa/<unit_code>")
@public
def commune(form_code: str, period_code: str, unit_code: str):
    """One commune's row of every table of the release."""
    form, period, tag = _release(form_code, period_code, unit_code)
    data, source = _built(form, period, lambda data: data.source(unit_code))
    return _cached(make_response(render("statistics/commune.html", data=data, source=source,
                                        total=suppression.TOTAL, cell=_shown)), tag)


def _release(form_code: str, period_code: str, *parts: str):
    """(form, period, ETag) of a published release's page (``parts``: which page); a client
    that has this version of the page is answered 304 before anything is computed."""
    form, period = _release_or_404(form_code, period_code)
    tag = _tag(tables.etag(form, period, *parts))
    _unless_modified(tag)
    return form, period, tag


def _built(form, period, find):
    """(the release's tables, ``find(tables)``: the part a page shows), built now; 404 when
    the release has no published figures or no such part."""
    data = tables.build(form, period)
    found = find(data) if data is not None else None
    if found is None:
        abort(404)
    return data, found


def _shown(table: tables.Table, row: int, col: int) -> str:
    value, hidden = table.cell(row, col)
    if hidden == suppression.PRIMARY:
        return f"<{table.data.threshold}"
    if hidden == suppression.SECONDARY:
        return "x"
    return str(value)


@bp.route("/<form_code>/<period_code>/<table_code>.csv")
@public
def table_csv(form_code: str, period_code: str, table_code: str):
    """One table as CSV, suppressed exactly as on the pages (UTF-8 with BOM for Excel)."""
    form, period, tag = _release(form_code, period_code, "csv", table_code)
    _data, table = _built(form, period, lambda data: data.table(table_code))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Source: %(form)s, %(period)s, reports published by the province",
                       form=form.name, period=format_period(period))])
    writer.writerow([_("Commune"), _("Code"), *table.columns]
                    + ([_("Total")] if table.row_totals else []))
    cols = list(range(len(table.columns))) + ([suppression.TOTAL] if table.row_totals else [])
    for i, source in enumerate(table.rows):
        writer.writerow([source.name, source.unit.code, *(_shown(table, i, c) for c in cols)])
    writer.writerow([_("Total of the published communes"), "",
                     *(_shown(table, suppression.TOTAL, c) for c in cols)])
    writer.writerow([_("%(small)s: fewer than %(n)s; x: hidden so that the totals do not "
                       "reveal a small number", small=f"<{table.data.threshold}",
                       n=table.data.threshold)])
    response = attachment(("\ufeff" + out.getvalue()).encode(),
                          f"thong-ke-{form.code}-{period.code}-{table.code}.csv", CSV)
    return _cached(response, tag)


# Publication (staff) -----------------------------------------------------------------------

class PublishForm(FlaskForm):
    version = IntegerField(validators=[InputRequired(), NumberRange(min=0)])


class WithdrawForm(PublishForm):
    #: The workflow's reason rule (required, at most REASON_MAX) is the service's.
    reason = TextAreaField()


def _approved_in_scope():
    query = report_queries.listing(current_user, state=report_states.APPROVED)
    reports = [r for r in db.session.scalars(query).unique()
               if r.unit.level.code == "commune" and services.may_publish(current_user, r)]
    return [(r, services.publication_of(r)) for r in reports]


def _manage_page(refusal: str | None = None, status: int = 200):
    return render("statistics/manage.html", rows=_approved_in_scope(), refusal=refusal,
                  published=states.PUBLISHED, is_current=services.is_current), status


@bp.route("/cong-bo/")
@require("report.publish")
def manage():
    """The approved commune reports in scope: publish, or withdraw with a reason."""
    return _manage_page()


def _load(report_id: int) -> UnitReport:
    report = db.get_or_404(UnitReport, report_id)
    authorize("report.publish", report.unit)
    return report


def _message(error: Refusal) -> str:
    if error.code == "locked":
        return _("Only an approved commune report can be published. Nothing was changed.")
    if error.code in ("stale", "invalid_transition"):
        return _("The publication changed after you opened this page. Nothing was changed: "
                 "check its current state below.")
    if error.code == "reason_required":
        return _("Please say why the figures are withdrawn.")
    return str(error)


def _refused(error: Refusal):
    db.session.rollback()
    message = _message(error)
    return refuse(error.code, message, html=lambda: _manage_page(message)[0])


@bp.route("/cong-bo/<int:report_id>/publish", methods=("POST",))
@require("report.publish")
def publish(report_id: int):
    """Publish the approved report (field ``version``: the publication version shown)."""
    report = _load(report_id)
    form = PublishForm()
    if not form.validate():
        abort(400)
    try:
        services.publish(report, current_user, form.version.data)
    except Refusal as error:
        return _refused(error)
    db.session.commit()
    flash(_("The figures of %(unit)s are now public.", unit=report.unit.name))
    return redirect(url_for(".manage"), code=303)


@bp.route("/cong-bo/<int:report_id>/withdraw", methods=("POST",))
@require("report.publish")
def withdraw(report_id: int):
    """Withdraw a publication with a reason (fields ``version``, ``reason``)."""
    report = _load(report_id)
    form = WithdrawForm()
    form.validate()
    if form.version.errors:
        abort(400)
    try:
        services.withdraw(report, current_user, form.version.data, form.reason.data)
    except Refusal as error:
        return _refused(error)
    db.session.commit()
    flash(_("The figures of %(unit)s were withdrawn from the public pages.",
            unit=report.unit.name))
    return redirect(url_for(".manage"), code=303)

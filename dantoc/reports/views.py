"""Unit reports: completeness, the commune report and its approval by the level above.

Routes: the list of reports in scope, completeness (HTMX rows), the report page (by id, or by
form code, period code and unit id while it has never been submitted), and the actions:
submit (the unit's officer), approve / return / reopen (the level above). Every action
carries the report version the page showed; a stale version or a concurrent action answers
409 and changes nothing (the service's conditional update decides).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..accounts.permissions import authorize, deny, require
from ..catalogs.models import AdminUnit
from ..catalogs.queries import predecessors_on
from ..extensions import db
from ..i18n.content import tr
from ..i18n.formatting import format_period
from ..indicators.descriptions import described
from ..lookup.query import AGGREGATED_TYPES
from ..refusal import Refusal
from ..submissions import queries as entry_queries
from ..submissions.labels import form_choices, period_choices
from ..web.downloads import attachment
from ..web.errors import refuse
from ..web.htmx import render
from ..workflow import actors
from . import bieu as bieu_
from . import completeness as completeness_
from . import jobs as report_jobs
from . import messages, queries, services, states
from . import page as report_page
from .forms import ActionForm, CompletenessForm, ReasonForm, missing_reasons
from .lists import filtered_page
from .models import UnitReport
from .queries import Target

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.route("/")
@require("report.view")
def index():
    """The unit reports in the viewer's scope, filtered and paged (HTMX rows)."""
    return filtered_page("reports", queries.filter_choices(), queries.listing,
                         messages.report_labels())


# Completeness ------------------------------------------------------------------------------

def _default_period(version) -> int | None:
    """The latest period of the form's type that has opened (else the latest of its type)."""
    periods, _forms = queries.filter_choices()
    fitting = [p for p in periods if p.period_type == version.period_type]
    opened = [p for p in fitting if p.opens_on <= clock.today()]
    chosen = (opened or fitting or [None])[0]
    return chosen.id if chosen else None


def _completeness_choice(filters: CompletenessForm):
    """(form, version, period) chosen in the filters, defaults filled in; None when none."""
    periods, forms = queries.filter_choices()
    filters.form.choices = form_choices(forms)
    if not forms:
        return None
    form = next((f for f in forms if f.id == filters.form.data), forms[0])
    version = entry_queries.latest_published(form)
    fitting = [p for p in periods if p.period_type == version.period_type]
    filters.period.choices = period_choices(fitting)
    period = next((p for p in fitting if p.id == filters.period.data), None)
    if period is None:
        period = next((p for p in fitting if p.id == _default_period(version)), None)
    filters.form.data, filters.period.data = form.id, period.id if period else None
    return (form, version, period) if period else None


def _areas(form, version, period, unit_id: int | None) -> list:
    day = queries.reference_day(period)
    if unit_id:
        unit = db.get_or_404(AdminUnit, unit_id)
        authorize("report.view", unit)
        roots = predecessors_on(unit, day)
    else:
        roots = queries.scope_roots(current_user, day)
    return [completeness_.area(Target(form, version, period, root)) for root in roots
            if root.level.rank < version.fill_level.rank]


@bp.route("/completeness")
@require("report.view")
def completeness():
    """Who has not submitted, who is late, returned, approved, and who to remind."""
    filters = CompletenessForm(request.args)  # read, not validated: bad values fall back
    choice = _completeness_choice(filters)
    areas = _areas(*choice, filters.unit.data) if choice else []
    return render("reports/completeness.html", "reports/_completeness.html",
                  filters=filters, choice=choice, areas=areas,
                  labels=messages.village_labels(), report_labels=messages.report_labels())


@bp.route("/own")
@require("report.view")
def own():
    """The report of the viewer's own unit (the commune's report for a commune officer) for
    the form and period completeness would show: where the navigation's "Our report" goes."""
    if current_user.unit_id is None:
        abort(404)
    choice = _completeness_choice(CompletenessForm(request.args))
    if choice is None:
        return redirect(url_for(".completeness"), code=303)
    form, _version, period = choice
    return redirect(url_for(".prepare", form_code=form.code, period_code=period.code,
                            unit_id=current_user.unit_id), code=303)


# The report page -----------------------------------------------------------------------------

def _rebased_url(page: report_page.ReportPage) -> str | None:
    """For a report on units that no longer exist (before the 2025 reform): the data lookup of
    its figures re-based onto today's communes (``docs/reports.md``)."""
    today = clock.today()
    if all(c.unit.valid_on(today) for c in page.children) and page.target.unit.valid_on(today):
        return None
    t = page.target
    indicators = [item.indicator_id for section in t.form_version.sections
                  for item in section.items if item.indicator.value_type in AGGREGATED_TYPES
                  and item.indicator.aggregation != "none"]
    return url_for("lookup.index", indicator=indicators, period_from=t.period.id,
                   period_to=t.period.id, unit=0, rebase="y")


def _render_page(t: Target, report: UnitReport | None = None, *, refusal: str | None = None,
                 reasons: dict | None = None, unnamed=(), decision: ReasonForm | None = None,
                 reopening: ReasonForm | None = None):
    page = report_page.build(t, current_user, report)
    return render("reports/detail.html", view=page, refusal=refusal, rebased=_rebased_url(page),
                  reasons=reasons or {}, unnamed={c.unit.id for c in unnamed},
                  decision=decision or ReasonForm(version=page.version, formdata=None),
                  reopening=reopening or ReasonForm(version=page.version, formdata=None),
                  labels=messages.village_labels(), report_labels=messages.report_labels(),
                  lock_message=messages.lock_message,
                  bieu_in_background=report_jobs.in_background(bieu_.size(page.children)))


def _target_or_404(form_code: str, period_code: str, unit_id: int) -> Target:
    t = queries.target(form_code, period_code, unit_id)
    if t is None:
        abort(404)
    return t


@bp.route("/<int:report_id>")
@require("report.view")
def detail(report_id: int):
    """A report that has been submitted at least once: figures, units below, actions."""
    report = db.get_or_404(UnitReport, report_id)
    authorize("report.view", report)
    t = queries.target_of(report)
    if t is None:
        abort(404)
    return _render_page(t, report)


@bp.route("/<form_code>/<period_code>/<int:unit_id>")
@require("report.view")
def prepare(form_code: str, period_code: str, unit_id: int):
    """The report of a unit for a form and period, submitted or not (writes nothing)."""
    t = _target_or_404(form_code, period_code, unit_id)
    authorize("report.view", t.unit)
    return _render_page(t)


@bp.route("/<form_code>/<period_code>/<int:unit_id>/submit", methods=("POST",))
@require("submission.approve")
def submit(form_code: str, period_code: str, unit_id: int):
    """Submit the report to the level above; units not approved must be named with a
    reason (fields ``missing_<unit id>``); ``version`` is the report version shown."""
    t = _target_or_404(form_code, period_code, unit_id)
    if t.unit.parent_id is None:
        abort(404)
    form = ActionForm()
    if not form.validate():
        abort(400)
    if not actors.submits_unit_report(current_user, t.unit):
        deny("submission.approve", t.unit, messages.no_authority("submit"))
    reasons = missing_reasons(request.form)
    try:
        report = services.submit(t, current_user, form.version.data, reasons)
    except Refusal as error:
        return _refused(t, error, reasons=reasons)
    db.session.commit()
    flash(_("The report was submitted to the level above."))
    return redirect(url_for(".detail", report_id=report.id), code=303)


def _refused(t: Target, error: Refusal, **context):
    """Re-show the page with what was refused; nothing of the request is kept."""
    db.session.rollback()
    report = queries.report_for(t)
    message = messages.refusal(error, t.period)
    unnamed = error.extra.get("pending", [])
    return refuse(error.code, message, html=lambda: _render_page(
        t, report, refusal=message, unnamed=unnamed, **context))


def _load_for_decision(report_id: int) -> UnitReport:
    """The report, if the viewer may decide on it (404 unknown, 403 otherwise, logged)."""
    report = db.get_or_404(UnitReport, report_id)
    authorize("submission.approve", report)
    if not actors.decides_unit_report(current_user, report.unit):
        deny("submission.approve", report, messages.no_authority("decide"))
    if actors.own_submission(current_user, report):
        deny("submission.approve", report, messages.no_authority("decide", own=True))
    return report


def _decide(report_id: int, action: str, form):
    report = _load_for_decision(report_id)
    t = queries.target_of(report)
    if t is None:
        abort(404)
    if not form.validate():
        if form.version.errors:
            abort(400)
        key = "reopening" if action == "reopen" else "decision"
        return _render_page(t, report, **{key: form}), 422
    reason = getattr(form, "reason", None)
    try:
        services.decide(report, action, current_user, form.version.data,
                        reason.data if reason is not None else None)
    except Refusal as error:
        return _refused(t, error)
    db.session.commit()
    flash({"approve": _("The report was approved."),
           "return": _("The report was returned to the unit with your reason."),
           "reopen": _("The report was reopened and returned to the unit with your reason.")}
          [action])
    return redirect(url_for(".detail", report_id=report.id), code=303)


@bp.route("/<int:report_id>/approve", methods=("POST",))
@require("submission.approve")
def approve(report_id: int):
    """Approve the submitted version shown on the page (field ``version``)."""
    return _decide(report_id, "approve", ActionForm())


@bp.route("/<int:report_id>/return", methods=("POST",))
@require("submission.approve")
def give_back(report_id: int):
    """Return the submitted version shown with a required reason (``version``, ``reason``)."""
    return _decide(report_id, "return", ReasonForm())


@bp.route("/<int:report_id>/reopen", methods=("POST",))
@require("submission.approve")
def reopen(report_id: int):
    """Un-approve: send an approved report back to the unit with a required reason."""
    return _decide(report_id, "reopen", ReasonForm())


def _exportable(report_id: int) -> UnitReport:
    """An approved report the officer may export (403 outside scope, 409 not approved)."""
    report = db.get_or_404(UnitReport, report_id)
    authorize("report.export", report)
    if report.state != states.APPROVED:
        abort(make_response(refuse("invalid_transition", _(
            "Only an approved report has an official biểu. This one is not approved yet."))))
    return report


@bp.route("/<int:report_id>/bieu.xlsx")
@require("report.export")
def bieu_xlsx(report_id: int):
    """The official biểu of an approved report as XLSX (the regulation's layout); one with
    many units below is made in the background: this page offers to start it."""
    report = _exportable(report_id)
    units = bieu_.size_of(report)
    if report_jobs.in_background(units):
        return render("jobs/start_export.html", title=_("Official biểu (XLSX)"),
                      what=tr(report.unit, "name") + " · " + format_period(report.period),
                      size=_("%(n)s units", n=units),
                      action=url_for(".bieu_export", report_id=report.id),
                      back=url_for(".detail", report_id=report.id))
    return attachment(bieu_.to_xlsx(bieu_.build(report, current_user)),
                      report_jobs.filename(report))


@bp.route("/<int:report_id>/bieu/export", methods=("POST",))
@require("report.export")
def bieu_export(report_id: int):
    """Start making the biểu XLSX in the background; the job's page shows its progress and,
    at the end, the file to download."""
    report = _exportable(report_id)  # the CSRF token is checked by CSRFProtect
    job = report_jobs.start(report, current_user)
    db.session.commit()
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


@bp.route("/<int:report_id>/bieu")
@require("report.export")
def bieu_page(report_id: int):
    """The same biểu as a page that prints on A4 landscape."""
    report = _exportable(report_id)
    return render("reports/bieu.html", bieu=bieu_.build(report, current_user),
                  today=clock.today(), describe=described, nation=bieu_.NATION, motto=bieu_.MOTTO,
                  letters=bieu_.COLUMN_LETTERS)

"""The biểu XLSX of a report with many units below (a province's, by commune) is made by a
background job: computing every commune's figures can outlast a request (docs/jobs.md)."""

from __future__ import annotations

from flask import abort, current_app, make_response
from flask_babel import gettext as _

from ..accounts.permissions import authorize, can
from ..extensions import db
from ..i18n.content import tr
from ..i18n.formatting import format_period
from ..jobs.models import Job
from ..jobs.queue import File, JobRefused, Progress, enqueue, register, unfinished_same
from ..web.downloads import XLSX
from ..web.errors import refuse
from . import bieu, states
from .models import UnitReport

KIND = "reports.bieu"


def in_background(units: int) -> bool:
    """Whether a biểu computing ``units`` reports below (:func:`bieu.size`) is made by a job
    rather than in the request."""
    return units > current_app.config["EXPORT_BACKGROUND_UNITS"]


def filename(report: UnitReport) -> str:
    return f"{report.form.code}-{report.period.code}-{report.unit.code}.xlsx"


def start(report: UnitReport, owner) -> Job:
    """Queue the biểu of ``report`` for ``owner`` (the caller authorized it and commits);
    the owner's unfinished job for the same report version when there is one."""
    params = {"report_id": report.id, "version": report.version}
    return unfinished_same(KIND, owner, params) or enqueue(
        KIND, _("Official biểu: %(unit)s, %(period)s", unit=tr(report.unit, "name"),
                period=format_period(report.period)), owner=owner, params=params)


def _report(job: Job) -> UnitReport | None:
    return db.session.get(UnitReport, job.params["report_id"])


def _changed() -> str:
    return _("The report was reopened or changed after this file was asked for. "
             "Export it again once it is approved.")


def may_download(job: Job) -> None:
    """The file is given only while its owner may export the report and the report is
    still the approved version it was made from."""
    report = _report(job)
    if report is None:
        abort(404)
    authorize("report.export", report)
    if report.state != states.APPROVED or report.version != job.params["version"]:
        abort(make_response(refuse("invalid_transition", _changed())))


@register(KIND, may_download=may_download)
def run(job: Job, progress: Progress) -> File:
    """Compute the biểu unit by unit (progress after each), then write the workbook."""
    report = _report(job)
    if report is None or job.owner is None or not can(job.owner, "report.export", report):
        raise JobRefused([{"message": _("You may no longer export this report.")}])
    if report.state != states.APPROVED or report.version != job.params["version"]:
        raise JobRefused([{"message": _changed()}])
    return File(bieu.to_xlsx(bieu.build(report, job.owner, progress)), filename(report), XLSX)

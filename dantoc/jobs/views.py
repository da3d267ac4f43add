"""Job pages: the list of one's own jobs and one job's progress, result or errors.

Without JavaScript the page of an unfinished job refreshes itself every few seconds (a
``<meta http-equiv="refresh">`` inside ``<noscript>``); with htmx only the status fragment is
polled (``hx-trigger="every 2s"``) and the polling stops when the job has finished, because
the finished fragment carries no trigger.

An export's file is downloaded from ``/jobs/<id>/download`` by the person who asked for it
only (anyone else: 404, as for the page), and only while they may still export what it
holds: the export's own check runs again (403 when their rights changed meanwhile).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import signed_in
from ..extensions import db
from ..web.downloads import attachment
from ..web.errors import refuse
from ..web.htmx import render
from .models import DONE, Job
from .queue import DOWNLOADS, progress_of

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _may_see(job: Job) -> bool:
    return job.owner_id == current_user.id or current_user.role_code == "admin"


@bp.route("/")
@signed_in
def index():
    """The signed-in person's jobs, newest first: they can leave a job and come back."""
    jobs = db.session.scalars(sa.select(Job).where(Job.owner_id == current_user.id)
                              .order_by(Job.id.desc()).limit(50))
    return render("jobs/index.html", jobs=list(jobs))


@bp.route("/<int:job_id>")
@signed_in
def show(job_id: int):
    """One job: state and progress bar while it runs, the result or the errors at the end."""
    job = db.session.get(Job, job_id)
    if job is None or not _may_see(job):
        abort(404)  # another person's job: as if it did not exist (ids are sequential)
    done, total = progress_of(job)
    return render("jobs/show.html", "jobs/_status.html", job=job, done=done, total=total)


@bp.route("/<int:job_id>/download")
@signed_in
def download(job_id: int):
    """The file of a finished export, for the person who asked for it and no one else."""
    job = db.session.get(Job, job_id)
    if job is None or job.owner_id != current_user.id or job.kind not in DOWNLOADS:
        abort(404)  # another person's job, administrators included: as if it did not exist
    DOWNLOADS[job.kind](job)  # may they still export this? (403 otherwise)
    if job.state != DONE:
        return refuse("invalid_transition", _("The file is not ready yet."))
    if job.output is None:
        return refuse("not_found", _("This file was kept for a few days and has been "
                                     "deleted. Prepare it again."))
    response = attachment(job.output, job.result["file"], job.result["media_type"])
    response.headers["Cache-Control"] = "private, no-store"
    return response

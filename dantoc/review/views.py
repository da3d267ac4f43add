"""Commune review: inbox (HTMX rows), review page, approve and return (POST, 303).

A transition acts on the version the officer saw: a stale version or a concurrent
transition answers 409 and changes nothing (the service's conditional update decides).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import authorize, can, require
from ..extensions import db
from ..submissions import messages, services
from ..submissions.services import SubmissionError
from ..web.htmx import render
from . import queries
from .forms import ApproveForm, BulkApproveForm, FilterForm, ReturnForm

bp = Blueprint("review", __name__, url_prefix="/review")
PER_PAGE = 25


def _filters() -> FilterForm:
    form = FilterForm(request.args)
    periods, forms = queries.filter_choices()
    form.period.choices = [(0, _("All periods"))] + [(p.id, p.code) for p in periods]
    form.form.choices = [(0, _("All forms"))] + [(f.id, f.code) for f in forms]
    labels = messages.status_labels()
    form.state.choices = [("", _("All states"))] + [(s, labels[s]) for s in queries.VISIBLE]
    return form


@bp.route("/")
@require("submission.review")
def index():
    """The officer's inbox: submissions of the villages in scope, filtered and paged."""
    form = _filters()
    form.validate()
    query = queries.inbox(current_user, form.period.data if not form.period.errors else None,
                          form.form.data if not form.form.errors else None,
                          form.state.data if not form.state.errors else None)
    results = db.paginate(query, per_page=PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("review/index.html", "review/_rows.html", filters=form, results=results,
                  args=args, labels=messages.status_labels())


def _load(key):
    """The submission of ``key``, in the officer's scope (403 outside, 404 unknown)."""
    submission = queries.by_key(key)
    if submission is None or submission.state not in queries.VISIBLE:
        abort(404)
    authorize("submission.review", submission)
    return submission


def _page(submission, approve=None, give_back=None, refusal=None):
    version = services.version_of(submission, submission.current_version)
    number = submission.current_version
    return render("review/detail.html", submission=submission, version=version,
                  review=queries.review(submission, version),
                  approve=approve or ApproveForm(version=number),
                  give_back=give_back or ReturnForm(version=number), refusal=refusal,
                  labels=messages.status_labels(),
                  may_decide=can(current_user, "submission.approve", submission))


@bp.route("/<key>")
@require("submission.review")
def detail(key):
    """The review page: each value beside last period's, big changes and rule violations."""
    return _page(_load(key))


def _act(key, action: str, form, reason: str | None = None):
    """Apply ``action`` to the version the form names; 409 when it is no longer current."""
    submission = _load(key)
    authorize("submission.approve", submission)
    if submission.current_version != form.version.data:
        return _stale(submission)
    try:
        services.transition(submission, action, current_user, reason=reason)
    except SubmissionError:
        return _stale(submission)
    db.session.commit()
    flash(_("The report was approved.") if action == "approve"
          else _("The report was returned to the village with your reason."))
    return redirect(url_for(".detail", key=key), code=303)


def _stale(submission):
    db.session.rollback()
    submission = queries.by_key(submission.client_uuid)
    message = _("Someone else acted on this report, or it changed, after you opened it. "
                "Nothing was changed: check its current state below.")
    return _page(submission, refusal=message), 409


@bp.route("/<key>/approve", methods=("POST",))
@require("submission.approve")
def approve(key):
    """Approve the submitted version shown on the page (audited by the service)."""
    form = ApproveForm()
    if not form.validate():
        _load(key)
        abort(400)
    return _act(key, "approve", form)


@bp.route("/<key>/return", methods=("POST",))
@require("submission.approve")
def give_back(key):
    """Return the version shown with a required reason (audited by the service)."""
    form = ReturnForm()
    if not form.validate():
        submission = _load(key)
        authorize("submission.approve", submission)
        if form.version.errors:
            abort(400)
        return _page(submission, give_back=form), 422
    return _act(key, "return", form, reason=form.reason.data)


def _approve_if_clean(key, number: int) -> bool:
    """Approve one ticked report when it is in scope, unchanged and has nothing flagged."""
    submission = queries.by_key(key)
    if (submission is None or submission.current_version != number
            or not can(current_user, "submission.approve", submission)):
        return False
    version = services.version_of(submission, number)
    if version is None or not queries.review(submission, version).clean:
        return False
    try:
        services.transition(submission, "approve", current_user)
    except SubmissionError:
        return False
    return True


@bp.route("/approve-clean", methods=("POST",))
@require("submission.approve")
def approve_clean():
    """Bulk approval: the ticked reports without flags; the others are left for review."""
    form = BulkApproveForm()
    targets = form.targets() if form.validate() else []
    approved = sum(_approve_if_clean(key, number) for key, number in targets)
    db.session.commit()
    flash(_("%(approved)s reports approved; %(skipped)s left for review (flagged, changed or "
            "already decided).", approved=approved, skipped=len(targets) - approved))
    return redirect(url_for(".index", **request.args), code=303)

"""Commune review: inbox (HTMX rows), review page, approve, return, un-approve (POST, 303).

A transition acts on the version the officer saw: a stale version or a concurrent
transition answers 409 and changes nothing (the service's conditional update decides).
Levels above the commune see approved village reports only (unless configured) and never
decide on them: see :mod:`dantoc.workflow.actors`.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..accounts.permissions import authorize, deny, require
from ..extensions import db
from ..refusal import Refusal
from ..submissions import labels as labels_
from ..submissions import messages, services, states
from ..web.errors import message_of, refuse
from ..web.forms import FilterForm
from ..web.htmx import render
from ..web.inputs import page_number
from ..workflow import Lock, actors
from . import queries
from .forms import ApproveForm, BulkApproveForm, UnapproveForm, return_form
from .services import Comment
from .services import give_back as return_with_comments

bp = Blueprint("review", __name__, url_prefix="/review")
PER_PAGE = 25


def _filters() -> FilterForm:
    periods, forms = queries.filter_choices()
    labels = messages.status_labels()
    return FilterForm.read(request.args, labels_.period_choices(periods),
                           labels_.form_choices(forms), [(s, labels[s]) for s in queries.VISIBLE])


@bp.route("/")
@require("submission.review")
def index():
    """The officer's inbox: submissions of the villages in scope, filtered and paged."""
    form = _filters()
    query = queries.inbox(current_user, form.chosen("period"), form.chosen("form"),
                          form.chosen("state"), form.chosen("village"))
    results = db.paginate(query, per_page=PER_PAGE, page=page_number(),
                          error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("review/index.html", "review/_rows.html", filters=form, results=results,
                  args=args, labels=messages.status_labels(),
                  bulk=actors.decides_village_reports(current_user),
                  approved_only=not actors.sees_pending(current_user))


def _load(key):
    """The submission of ``key`` as this officer may see it: 404 unknown or a draft, 403
    outside their scope or, above the commune, not approved yet."""
    submission = queries.by_key(key)
    if submission is None or submission.state not in queries.VISIBLE:
        abort(404)
    authorize("submission.review", submission)
    if not actors.sees_village_report(current_user, submission.state == states.APPROVED):
        deny("submission.review", submission, messages.pending_hidden())
    return submission


def _decidable(key):
    """The submission of ``key`` if this officer may approve, return or un-approve it."""
    submission = _load(key)
    if not actors.decides_village_report(current_user, submission):
        deny("submission.approve", submission,
             messages.review_lock_message(Lock.NO_AUTHORITY, submission.period))
    return submission


def _page(submission, approve=None, give_back=None, unapprove=None, refusal=None):
    version = services.version_of(submission, submission.current_version)
    number = submission.current_version
    review = queries.review(submission, version, current_user)
    may_decide = actors.decides_village_report(current_user, submission)
    lock = states.review_lock_reason(submission.state,
                                     period_open=submission.period.is_open(clock.today()),
                                     authorized=may_decide,
                                     own=services.typed_in_by(submission, current_user))
    targets = queries.comment_targets(submission, review)
    if give_back is None:
        give_back = return_form(targets, version=number)
    return render("review/detail.html", submission=submission, version=version,
                  review=review, history=queries.history(submission, version, current_user),
                  lines=queries.lines(submission, review, targets,
                                      None if lock else give_back),
                  approve=approve or ApproveForm(version=number), give_back=give_back,
                  unapprove=unapprove or UnapproveForm(version=number), refusal=refusal,
                  labels=messages.status_labels(), lock=lock,
                  next_report=queries.next_waiting(current_user, submission) if may_decide
                  else None,
                  lock_message=messages.review_lock_message(lock, submission.period))


@bp.route("/<key>")
@require("submission.review")
def detail(key):
    """The review page: each value beside last period's, big changes and rule violations,
    and for a correction what changed since the returned version."""
    return _page(_load(key))


def _act(submission, action: str, form, reason: str | None = None,
         comments_: list[Comment] | None = None):
    """Apply ``action`` to the version the form names; 409 when it is no longer current."""
    if submission.current_version != form.version.data:
        return _refused(submission, Refusal("stale", submission))
    try:
        if action == "return":
            return_with_comments(submission, current_user, reason, comments_ or [])
        else:
            services.transition(submission, action, current_user, reason=reason)
    except Refusal as error:
        return _refused(submission, error)
    db.session.commit()
    flash({"approve": _("The report was approved."),
           "return": _("The report was returned to the village with your reason."),
           "unapprove": _("The approval was withdrawn. The report waits for your decision "
                          "again.")}[action])
    return redirect(url_for(".detail", key=submission.client_uuid), code=303)


def _refused(submission, error: Refusal):
    """Nothing was changed: the page as it is now, with why (409 stale or locked)."""
    db.session.rollback()
    submission = queries.by_key(submission.client_uuid)
    message = (messages.review_lock_message(error.lock, submission.period)
               if error.code == "locked" else message_of(error.code))
    return refuse(error.code, message, html=lambda: _page(submission, refusal=message))


@bp.route("/<key>/approve", methods=("POST",))
@require("submission.approve")
def approve(key):
    """Approve the submitted version shown on the page (audited by the service)."""
    submission = _decidable(key)
    form = ApproveForm()
    if not form.validate():
        abort(400)
    return _act(submission, "approve", form)


@bp.route("/<key>/return", methods=("POST",))
@require("submission.approve")
def give_back(key):
    """Return the version shown with a required reason and optional field comments, in one
    transaction with its audit row (audited by the service)."""
    submission = _decidable(key)
    version = services.version_of(submission, submission.current_version)
    targets = queries.comment_targets(submission, queries.review(submission, version,
                                                                 current_user))
    form = return_form(targets)
    if not form.validate():
        if form.version.errors:
            abort(400)
        return _page(submission, give_back=form), 422
    notes = [Comment(target.indicator, target.key, text) for target, text in form.comments()]
    return _act(submission, "return", form, reason=form.reason.data, comments_=notes)


@bp.route("/<key>/unapprove", methods=("POST",))
@require("submission.approve")
def unapprove(key):
    """Withdraw an approval, with a required reason (audited by the service): the report is
    submitted again, so the officer can return it or approve it again."""
    submission = _decidable(key)
    form = UnapproveForm()
    if not form.validate():
        if form.version.errors:
            abort(400)
        return _page(submission, unapprove=form), 422
    return _act(submission, "unapprove", form, reason=form.reason.data)


def _approve_if_clean(key, number: int) -> bool:
    """Approve one ticked report when it is in scope, unchanged and has nothing flagged."""
    submission = queries.by_key(key)
    if (submission is None or submission.current_version != number
            or not actors.decides_village_report(current_user, submission)):
        return False
    version = services.version_of(submission, number)
    if version is None or not queries.review(submission, version).clean:
        return False
    try:
        services.transition(submission, "approve", current_user)
    except Refusal:
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

"""Received reports (``/received``): what arrived from outside, for the province's reviewers
(verb ``received.review``).

- the list, filtered as the other lists of reports (period, form, state; HTMX rows);
- one report: its figures with indicator and breakdown labels, and where it came from
  (the sending client; for a pushed report, the village versions and missing units it was
  made of; for a DHIS2 import, the document's header);
- on a DHIS2 draft, the two decisions of :data:`.states.FLOW`: accept, or reject with a
  reason. Each carries the version the page showed; a stale page or a concurrent decision
  answers 409 and changes nothing (the workflow core's conditional update decides).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import authorize, can, require
from ..extensions import db
from ..refusal import Refusal
from ..reports.lists import filtered_page
from ..web.errors import refuse
from ..web.htmx import render
from . import messages, review, states
from .forms import AcceptForm, RejectForm
from .models import ReceivedReport

bp = Blueprint("exchange", __name__, url_prefix="/received")
VERB = "received.review"


@bp.route("/")
@require(VERB)
def index():
    """The received reports of units in the reviewer's scope, newest first (HTMX rows)."""
    return filtered_page("exchange", review.filter_choices(), review.listing,
                         messages.state_labels())


def _load(received_id: int) -> ReceivedReport:
    """The report, if its unit is in the reviewer's scope (404 unknown, 403 otherwise)."""
    report = db.get_or_404(ReceivedReport, received_id)
    authorize(VERB, report)
    return report


def _page(report: ReceivedReport, *, refusal: str | None = None,
          rejection: RejectForm | None = None):
    return render(
        "exchange/detail.html", report=report, figures=review.figures(report),
        sources=review.sources(report), missing=review.missing(report),
        header=review.header(report),
        labels=messages.state_labels(), origins=messages.origin_labels(), refusal=refusal,
        can_decide=report.state == states.DRAFT and can(current_user, VERB, report),
        rejection=rejection or RejectForm(formdata=None, version=report.version))


@bp.route("/<int:received_id>")
@require(VERB)
def detail(received_id: int):
    """One received report: figures, provenance and, for a draft, the decisions."""
    return _page(_load(received_id))


def _decide(received_id: int, action: str, form: AcceptForm):
    report = _load(received_id)
    if not form.validate():
        abort(400)  # only the hidden version can be malformed
    reason = form.reason.data if isinstance(form, RejectForm) else None
    try:
        review.decide(report, action, current_user, form.version.data, reason)
    except Refusal as error:
        db.session.rollback()
        report = db.session.get(ReceivedReport, received_id)
        message = messages.refusal(error)
        rejection = form if action == "reject" else None
        at_field = rejection is not None and error.code.startswith("reason")
        if at_field:  # said next to the reason, not again above the page
            rejection.reason.errors = [message]
        return refuse(error.code, message, html=lambda: _page(
            report, refusal=None if at_field else message, rejection=rejection))
    db.session.commit()
    flash({"accept": _("The values were accepted: they count as a received report now."),
           "reject": _("The values were rejected with your reason.")}[action])
    return redirect(url_for(".detail", received_id=received_id), code=303)


@bp.route("/<int:received_id>/accept", methods=("POST",))
@require(VERB)
def accept(received_id: int):
    """Accept the draft version shown on the page (field ``version``)."""
    return _decide(received_id, "accept", AcceptForm())


@bp.route("/<int:received_id>/reject", methods=("POST",))
@require(VERB)
def reject(received_id: int):
    """Reject the draft version shown with a required reason (``version``, ``reason``)."""
    return _decide(received_id, "reject", RejectForm())

"""Localised words for states, locks and refusals (msgids in English, shown in Vietnamese)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n.formatting import format_date, format_period
from ..indicators.models import Period
from ..refusal import Refusal
from ..web.errors import message_of
from ..workflow import Lock
from . import states


def status_labels() -> dict[str, str]:
    """State → what the village head reads."""
    return {state: status_label(state) for state in _STATUS}


def status_label(state: str) -> str:
    """What the village head reads for one state (one translation looked up, not five)."""
    return str(_STATUS[state])


#: State → its label, translated when it is read.
_STATUS = {states.NOT_STARTED: _l("Not started"), states.DRAFT: _l("Draft"),
           states.SUBMITTED: _l("Submitted"), states.RETURNED: _l("Returned for correction"),
           states.APPROVED: _l("Approved")}


def lock_message(reason: str | None, period: Period) -> str:
    """Why the form cannot be changed now (the village head's words)."""
    words = _ENTRY_LOCKS.get(reason)
    return words(period) if words else _("You cannot report for this village.")


#: Lock → its message on the village head's form, given the period.
_ENTRY_LOCKS = {
    Lock.PERIOD_CLOSED: lambda period: _(
        "Reporting for %(period)s is closed (open from %(opens)s to %(closes)s). Contact the "
        "commune if a correction is needed.", period=format_period(period),
        opens=format_date(period.opens_on), closes=format_date(period.closes_on)),
    Lock.APPROVED: lambda period: _(
        "This report has been approved and can no longer be changed."),
    Lock.AWAITING_DECISION: lambda period: _(
        "This report was submitted and is waiting for the commune's review. You can change it "
        "if the commune returns it."),
}


def refusal(error: Refusal, period: Period) -> str:
    """The message for a refused save or submit; nothing was changed in every case.

    The catalogue's message (:mod:`dantoc.web.errors`) says it for most codes; a lock says
    why, and a stale version tells the village head what to do on the form.
    """
    if error.code == "locked":
        return lock_message(error.lock or (error.obj and lock_of(error.obj)), period)
    if error.code == "stale":
        return _("This report was changed after you opened it. Nothing was changed: "
                 "open the form again and make your corrections on the new version.")
    return message_of(error.code)


def lock_of(submission) -> str | None:
    return states.lock_reason(submission.state, period_open=True, authorized=True)


def review_lock_message(reason: str | None, period: Period) -> str | None:
    """Why the officer on the review page cannot approve or return now (None: they can)."""
    words = _REVIEW_LOCKS.get(reason)
    return words(period) if words else None


#: Lock → its message on the review page, given the period.
_REVIEW_LOCKS = {
    Lock.NO_AUTHORITY: lambda period: _(
        "You can read this report but not decide on it: approving, returning and un-approving "
        "a village's report is for the officers of its commune."),
    Lock.WITH_OWNER: lambda period: _(
        "This report is with the village for correction. You can act on it again when the "
        "village sends the corrected version."),
    Lock.APPROVED: lambda period: _(
        "This report is approved and locked. To change that, withdraw the approval with a "
        "reason: you can then return it or approve it again."),
    Lock.PERIOD_CLOSED: lambda period: _(
        "This report is approved and reporting for %(period)s is closed (%(closes)s): the "
        "approval can no longer be withdrawn.", period=format_period(period),
        closes=format_date(period.closes_on)),
    Lock.OWN_SUBMISSION: lambda period: _(
        "You typed this version in on the village's behalf, so another officer of the commune "
        "approves it (two people see every report). You can still return it."),
}


def pending_hidden() -> str:
    """A higher level opened a village report the commune has not approved yet."""
    return _("This report has not been approved by the commune yet. Levels above the commune "
             "see a village's reports once the commune has approved them.")

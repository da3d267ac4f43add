"""Localised words for report states, locks and refusals (English msgids)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n.formatting import format_date, format_period
from ..refusal import Refusal
from ..submissions import messages as entry_messages
from ..web.errors import message_of
from ..workflow import Lock
from . import states
from .services import grace_days


def report_labels() -> dict[str, str]:
    """Report state → label."""
    return {
        states.OPEN: _("Not submitted"),
        states.SUBMITTED: _("Submitted to the level above"),
        states.RETURNED: _("Returned by the level above"),
        states.APPROVED: _("Approved"),
    }


def village_labels() -> dict[str, str]:
    """Village submission state → label (the words of the village's own pages)."""
    return entry_messages.status_labels()


def lock_message(reason: str, period=None, report=None) -> str:
    """Why the viewer cannot act on a report now (a lock about the period needs it)."""
    if reason in _ABOUT_THE_PERIOD and period is not None:
        return _ABOUT_THE_PERIOD[reason](period)
    words = _REPORT_LOCKS.get(reason)
    if words is None:
        return _("You can view this report but not act on it: the unit's own officers submit it "
                 "and an officer of a level above approves or returns it.")
    return str(words)


#: Lock → its message on the report page (translated when it is read).
_REPORT_LOCKS = {
    Lock.TOP_LEVEL: _l(
        "This is the top level: its figures are the sum of the approved reports below it, and "
        "there is nothing to submit above it."),
    Lock.APPROVED: _l(
        "This report was approved and is locked. Only the level above can reopen it, with a "
        "reason."),
    Lock.AWAITING_DECISION: _l(
        "This report was submitted and is waiting for the decision of the level above."),
    Lock.PARENT_UP: _l(
        "The report of the level above has been submitted or approved, which locks this one. "
        "It must be returned or reopened first."),
    Lock.WITH_OWNER: _l(
        "The unit's officers have not submitted this report yet: there is nothing to "
        "approve."),
    Lock.OWN_SUBMISSION: _l(
        "You submitted this report, so another officer must approve or return it."),
}
#: A lock about the period → its message, which names the period and its dates.
_ABOUT_THE_PERIOD = {
    Lock.PERIOD_CLOSED: lambda period: _(
        "Reporting for %(period)s closed on %(closes)s (with %(days)s days for the commune "
        "report): this report can no longer be submitted.", period=format_period(period),
        closes=format_date(period.closes_on), days=grace_days()),
    Lock.PERIOD_NOT_OPEN: lambda period: _(
        "Reporting for %(period)s opens on %(opens)s.", period=format_period(period),
        opens=format_date(period.opens_on)),
}


def refusal(error: Refusal, period=None) -> str:
    """The message for a refused action; nothing was changed in every case. The catalogue
    says it (:mod:`dantoc.web.errors`) except for a lock and for the units still missing."""
    if error.code == "locked":
        return lock_message(error.lock or "", period)
    if error.code == "pending":
        names = ", ".join(c.unit.name for c in error.extra["pending"])
        return _("Nothing was submitted: these units are not approved yet: %(names)s. Approve "
                 "them first, or name each one below with the reason it is missing.",
                 names=names)
    if error.code == "reason_required":
        return _("Please say why: the reason is shown to the unit's officer.")
    return message_of(error.code)


def no_authority(action: str, own: bool = False) -> str:
    """The 403 message of a refused action."""
    if own:
        return lock_message(Lock.OWN_SUBMISSION)
    if action == "submit":
        return _("Only the unit's own officers can submit its report.")
    return _("Only an officer of a level above this unit can approve, return or reopen its "
             "report.")

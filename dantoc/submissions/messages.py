"""Localised words for states, locks and refusals (msgids in English, shown in Vietnamese)."""

from __future__ import annotations

from flask_babel import gettext as _

from ..i18n.formatting import format_date, format_period
from ..indicators.models import Period
from . import states
from .services import SubmissionError


def status_labels() -> dict[str, str]:
    """State → what the village head reads."""
    return {
        "not_started": _("Not started"),
        states.DRAFT: _("Draft"),
        states.SUBMITTED: _("Submitted"),
        states.RETURNED: _("Returned for correction"),
        states.APPROVED: _("Approved"),
    }


def lock_message(reason: str | None, period: Period) -> str:
    """Why the form cannot be changed now."""
    if reason == states.PERIOD_CLOSED:
        return _("Reporting for %(period)s is closed (open from %(opens)s to %(closes)s). "
                 "Contact the commune if a correction is needed.", period=format_period(period),
                 opens=format_date(period.opens_on), closes=format_date(period.closes_on))
    if reason == states.LOCK_APPROVED:
        return _("This report has been approved and can no longer be changed.")
    if reason == states.AWAITING_REVIEW:
        return _("This report was submitted and is waiting for the commune's review. You can "
                 "change it if the commune returns it.")
    return _("You cannot report for this village.")


def refusal(error: SubmissionError, period: Period) -> str:
    """The message for a refused save or submit; nothing was changed in every case."""
    if error.code == "locked":
        return lock_message(error.reason or (error.submission and lock_of(error.submission)),
                            period)
    texts = {
        "uuid_conflict": _("This copy of the form was already sent with different answers. "
                           "Nothing was changed. Open the form again to see what was received."),
        "stale_version": _("This report was changed after you opened it. Nothing was changed: "
                           "open the form again and make your corrections on the new version."),
        "already_started": _("This form was already started for this village on another phone "
                             "or tab. Nothing was changed: open the form again to continue "
                             "from the saved copy."),
        "in_flight": _("The same report is being saved right now. Wait a moment and try "
                       "again."),
    }
    return texts.get(error.code, _("This action is not possible in the report's current "
                                   "state."))


def lock_of(submission) -> str | None:
    return states.lock_reason(submission.state, period_open=True, authorized=True)


def review_lock_message(reason: str | None, period: Period) -> str | None:
    """Why the officer on the review page cannot approve or return now (None: they can)."""
    if reason == states.NO_AUTHORITY:
        return _("You can read this report but not decide on it: approving, returning and "
                 "un-approving a village's report is for the officers of its commune.")
    if reason == states.WITH_VILLAGE:
        return _("This report is with the village for correction. You can act on it again "
                 "when the village sends the corrected version.")
    if reason == states.LOCK_APPROVED:
        return _("This report is approved and locked. To change that, withdraw the approval "
                 "with a reason: you can then return it or approve it again.")
    if reason == states.PERIOD_CLOSED:
        return _("This report is approved and reporting for %(period)s is closed "
                 "(%(closes)s): the approval can no longer be withdrawn.",
                 period=format_period(period), closes=format_date(period.closes_on))
    return None


def pending_hidden() -> str:
    """A higher level opened a village report the commune has not approved yet."""
    return _("This report has not been approved by the commune yet. Levels above the commune "
             "see a village's reports once the commune has approved them.")

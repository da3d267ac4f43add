"""The closed set of submission states, the allowed transitions and why a record is locked.

States know their allowed actions (ODK ``submissionReviewStates``, DHIS2
``DataApprovalState``); a lock has a named reason (DHIS2 ``LockedStates``) so the interface
can say *why* a form cannot be changed.
"""

from __future__ import annotations

DRAFT = "draft"
SUBMITTED = "submitted"
RETURNED = "returned"
APPROVED = "approved"
STATES = (DRAFT, SUBMITTED, RETURNED, APPROVED)

#: action → {state before (None: no submission yet) → state after}.
TRANSITIONS: dict[str, dict[str | None, str]] = {
    "save": {None: DRAFT, DRAFT: DRAFT, RETURNED: RETURNED},
    "submit": {None: SUBMITTED, DRAFT: SUBMITTED, RETURNED: SUBMITTED},
    "return": {SUBMITTED: RETURNED},
    "approve": {SUBMITTED: APPROVED},
    #: A separate, audited action with a required reason (DHIS2 "unapprove"): the officer
    #: can then return or approve again.
    "unapprove": {APPROVED: SUBMITTED},
}
#: The actions a reviewer takes on a submitted report (through ``services.transition``).
REVIEW_ACTIONS = ("return", "approve", "unapprove")
#: The review actions that need a reason the village head (or the record) keeps.
NEEDS_REASON = ("return", "unapprove")
ACTIONS = tuple(TRANSITIONS)

#: Why a submission cannot be changed by the person looking at it.
NO_AUTHORITY = "no_authority"
LOCK_APPROVED = "approved"
PERIOD_CLOSED = "period_closed"
AWAITING_REVIEW = "awaiting_review"
#: Review side: the report is with the village (returned, or never submitted).
WITH_VILLAGE = "with_village"
LOCK_REASONS = (NO_AUTHORITY, LOCK_APPROVED, PERIOD_CLOSED, AWAITING_REVIEW, WITH_VILLAGE)


def target(state: str | None, action: str) -> str | None:
    """The state after ``action`` from ``state``, or None when the action is not allowed."""
    return TRANSITIONS.get(action, {}).get(state)


def allowed(state: str | None, action: str) -> bool:
    """Whether ``action`` may be taken from ``state``."""
    return target(state, action) is not None


def editable(state: str | None) -> bool:
    """Whether the village head may still change the content."""
    return allowed(state, "save")


def lock_reason(state: str | None, *, period_open: bool, authorized: bool) -> str | None:
    """Why the village head cannot edit now, or None when they can."""
    if not authorized:
        return NO_AUTHORITY
    if state == APPROVED:
        return LOCK_APPROVED
    if not period_open:
        return PERIOD_CLOSED
    if state == SUBMITTED:
        return AWAITING_REVIEW
    return None


def review_lock_reason(state: str | None, *, period_open: bool,
                       authorized: bool) -> str | None:
    """Why the reviewer cannot approve or return now, or None when they can.

    ``LOCK_APPROVED`` means "approved: un-approve it (with a reason) to act again";
    ``PERIOD_CLOSED`` on an approved report means even that is no longer possible.
    """
    if not authorized:
        return NO_AUTHORITY
    if state in (None, DRAFT, RETURNED):
        return WITH_VILLAGE
    if state == APPROVED:
        return LOCK_APPROVED if period_open else PERIOD_CLOSED
    return None

"""The closed set of unit-report states, the allowed transitions and why a report is locked.

A unit report is the aggregate of one form for one commune (or, before 2025-07-01, one
district) and one period. It is *open* until its officer submits it; the level above then
approves it or returns it with a reason; an approved report can be reopened (returned
again) with a reason by the level above. ``version`` counts transitions: every transition
is a conditional update on (state, version), so two officers acting on the same version
cannot both win (reliability.md §4.2 rule 11).
"""

from __future__ import annotations

OPEN = "open"
SUBMITTED = "submitted"
RETURNED = "returned"
APPROVED = "approved"
STATES = (OPEN, SUBMITTED, RETURNED, APPROVED)

#: action → {state before → state after}. "reopen" un-approves: the report goes back to the
#: unit's officer with the reason, as a return does.
TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {OPEN: SUBMITTED, RETURNED: SUBMITTED},
    "approve": {SUBMITTED: APPROVED},
    "return": {SUBMITTED: RETURNED},
    "reopen": {APPROVED: RETURNED},
}
ACTIONS = tuple(TRANSITIONS)
#: Actions taken by the level above (the others by the unit's own officer).
DECISIONS = ("approve", "return", "reopen")
#: Actions that need a written reason (shown to the unit's officer).
NEEDS_REASON = ("return", "reopen")
#: States in which a report has gone up and freezes the reports and data below it.
UP = (SUBMITTED, APPROVED)

#: Why the person looking at a report cannot act on it (shown on the report page).
NO_AUTHORITY = "no_authority"
LOCK_APPROVED = "approved"
PERIOD_CLOSED = "period_closed"
PERIOD_NOT_OPEN = "period_not_open"
AWAITING_DECISION = "awaiting_decision"
PARENT_UP = "parent_up"
TOP_LEVEL = "top_level"
OWN_SUBMISSION = "own_submission"
NOT_SUBMITTED = "not_submitted"
LOCK_REASONS = (NO_AUTHORITY, LOCK_APPROVED, PERIOD_CLOSED, PERIOD_NOT_OPEN,
                AWAITING_DECISION, PARENT_UP, TOP_LEVEL, OWN_SUBMISSION, NOT_SUBMITTED)


def target(state: str | None, action: str) -> str | None:
    """The state after ``action`` from ``state`` (None: no row yet = open), or None."""
    return TRANSITIONS.get(action, {}).get(state or OPEN)


def allowed(state: str | None, action: str) -> bool:
    """Whether ``action`` may be taken from ``state``."""
    return target(state, action) is not None

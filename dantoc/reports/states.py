"""The closed set of unit-report states and their transition table (:data:`FLOW`).

A unit report is the aggregate of one form for one commune (or, before 2025-07-01, one
district) and one period. It is *open* until its officer (the owner) submits it; the level
above then approves it or returns it with a reason; an approved report can be reopened
(returned again) with a reason by the level above. ``version`` counts transitions: every
transition is a conditional update on (state, version) in the shared workflow core
(:mod:`dantoc.workflow`), so two officers acting on the same version cannot both win
(reliability.md §4.2 rule 11). Lock reasons come from :class:`~dantoc.workflow.Lock`.
"""

from __future__ import annotations

from ..workflow import ABOVE, OWNER, Action, Workflow

OPEN = "open"
SUBMITTED = "submitted"
RETURNED = "returned"
APPROVED = "approved"
STATES = (OPEN, SUBMITTED, RETURNED, APPROVED)

#: state before → state after (no row yet = open). "reopen" un-approves: the report goes back
#: to the unit's officer with the reason, as a return does.
FLOW = Workflow("report", STATES, (
    Action("submit", {OPEN: SUBMITTED, RETURNED: SUBMITTED}, OWNER, stamps="submitted"),
    Action("approve", {SUBMITTED: APPROVED}, ABOVE, stamps="decided"),
    Action("return", {SUBMITTED: RETURNED}, ABOVE, needs_reason=True, stamps="decided"),
    Action("reopen", {APPROVED: RETURNED}, ABOVE, needs_reason=True, stamps="decided"),
), initial=OPEN)
ACTIONS = FLOW.names
#: Actions taken by the level above (the others by the unit's own officer).
DECISIONS = FLOW.by(ABOVE)
#: States in which a report has gone up and freezes the reports and data below it.
UP = (SUBMITTED, APPROVED)


def target(state: str | None, action: str) -> str | None:
    """The state after ``action`` from ``state`` (None: no row yet = open), or None."""
    return FLOW.target(state, action)


def allowed(state: str | None, action: str) -> bool:
    """Whether ``action`` may be taken from ``state``."""
    return FLOW.allowed(state, action)

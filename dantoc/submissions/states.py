"""The closed set of submission states and their transition table (:data:`FLOW`).

The table is data for the shared workflow core (:mod:`dantoc.workflow`): the village head
(owner) saves and submits; the commune (the level above) returns with a reason, approves,
and un-approves with a reason (DHIS2 "unapprove": the officer can then return or approve
again). A lock has a named reason from the shared vocabulary (:class:`~dantoc.workflow.Lock`)
so the interface can say *why* a form cannot be changed.
"""

from __future__ import annotations

from ..workflow import ABOVE, OWNER, Action, Lock, Workflow

DRAFT = "draft"
SUBMITTED = "submitted"
RETURNED = "returned"
APPROVED = "approved"
STATES = (DRAFT, SUBMITTED, RETURNED, APPROVED)
#: Who typed a version in (``submission_versions.source``): the village itself, the commune
#: on the village's behalf (nhập thay, issue #14), or an imported file (nhập từ tệp).
VILLAGE = "village"
COMMUNE = "commune"
FILE = "file"
SOURCES = (VILLAGE, COMMUNE, FILE)
#: Not a state: how the pages name a form the village has not opened yet.
NOT_STARTED = "not_started"
#: What the pages show for a village's form, in the order the completeness tables list them.
STATUSES = (NOT_STARTED, *STATES)

#: (state before → after; None: no submission yet). ``current_version`` counts the submitted
#: versions (content), so only a submit moves it; a decision leaves it as it is.
FLOW = Workflow("submission", STATES, (
    Action("save", {None: DRAFT, DRAFT: DRAFT, RETURNED: RETURNED}, OWNER),
    Action("submit", {None: SUBMITTED, DRAFT: SUBMITTED, RETURNED: SUBMITTED}, OWNER),
    Action("return", {SUBMITTED: RETURNED}, ABOVE, needs_reason=True),
    Action("approve", {SUBMITTED: APPROVED}, ABOVE),
    Action("unapprove", {APPROVED: SUBMITTED}, ABOVE, needs_reason=True),
), version="current_version", counts_transitions=False)
ACTIONS = FLOW.names
#: The actions a reviewer takes on a submitted report (through ``services.transition``).
REVIEW_ACTIONS = FLOW.by(ABOVE)


def target(state: str | None, action: str) -> str | None:
    """The state after ``action`` from ``state``, or None when the action is not allowed."""
    return FLOW.target(state, action)


def allowed(state: str | None, action: str) -> bool:
    """Whether ``action`` may be taken from ``state``."""
    return FLOW.allowed(state, action)


def editable(state: str | None) -> bool:
    """Whether the village head may still change the content."""
    return allowed(state, "save")


def lock_reason(state: str | None, *, period_open: bool, authorized: bool) -> Lock | None:
    """Why the village head cannot edit now, or None when they can."""
    if not authorized:
        return Lock.NO_AUTHORITY
    if state == APPROVED:
        return Lock.APPROVED
    if not period_open:
        return Lock.PERIOD_CLOSED
    if state == SUBMITTED:
        return Lock.AWAITING_DECISION
    return None


def review_lock_reason(state: str | None, *, period_open: bool, authorized: bool,
                       own: bool = False) -> Lock | None:
    """Why the reviewer cannot approve or return now, or None when they can.

    ``APPROVED`` means "approved: un-approve it (with a reason) to act again";
    ``PERIOD_CLOSED`` on an approved report means even that is no longer possible.
    ``own``: the reviewer typed the version in on the village's behalf (four eyes:
    :func:`approvable_by`).
    """
    if not authorized:
        return Lock.NO_AUTHORITY
    if state in (None, DRAFT, RETURNED):
        return Lock.WITH_OWNER
    if state == APPROVED:
        return Lock.APPROVED if period_open else Lock.PERIOD_CLOSED
    if own:
        return Lock.OWN_SUBMISSION
    return None

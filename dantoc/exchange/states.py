"""The origins and states of a received report, and its review table (:data:`FLOW`).

- ``origin = push``: a province's *approved* unit report, sent up by ``flask sync push``.
  It is stored as ``received`` and never reviewed again here: the province approved it.
- ``origin = dhis2``: values imported from a DHIS2 ``dataValueSets`` document. They arrive
  as a ``draft``; a reviewer of this instance (verb ``received.review``) **accepts** the draft,
  which makes it ``received`` and usable like a pushed report (the DHIS2 export counts it),
  or **rejects** it with a reason (``rejected``: kept, never used).

The two decisions are rows of a :class:`~dantoc.workflow.Workflow` of the shared core: the
reason rule, the conditional update on (state, version) that lets one of two concurrent
reviewers win, and the audit row (``received.accept``, ``received.reject``) come from it.
"""

from __future__ import annotations

from ..workflow import ABOVE, Action, Workflow

PUSH, DHIS2 = "push", "dhis2"
ORIGINS = (PUSH, DHIS2)

RECEIVED = "received"
DRAFT = "draft"
REJECTED = "rejected"
STATES = (RECEIVED, DRAFT, REJECTED)

#: state before → state after. Both decisions are taken by a reviewer above the report's
#: unit (the province, or the centre for a province's units).
FLOW = Workflow("received", STATES, (
    Action("accept", {DRAFT: RECEIVED}, ABOVE, stamps="decided"),
    Action("reject", {DRAFT: REJECTED}, ABOVE, needs_reason=True, stamps="decided"),
))
ACTIONS = FLOW.names

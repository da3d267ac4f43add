"""The publication (công bố) of an approved unit report: a closed set of states and its
transition table in the shared workflow core (:mod:`dantoc.workflow`).

Why a record of its own rather than a ``published`` state of the report: a published report
is still an *approved* report. The roll-up (:mod:`dantoc.reports.aggregate` counts approved
children), the freeze of the reports below (``states.UP``), the reopening (``approved →
returned``) and the report's database constraints all read ``state = 'approved'``; a fifth
report state would have to be added to each of them. Publication is a separate fact about an
approved report, with its own people (the province's ``report.publish``), its own reason rule
(a withdrawal needs a reason) and its own audit rows (``publication.publish``,
``publication.withdraw``). The public pages show a report only while it is published *and*
still approved, so a reopened report disappears from them at once.
"""

from __future__ import annotations

from ..workflow import ABOVE, Action, Workflow

UNPUBLISHED = "unpublished"
PUBLISHED = "published"
WITHDRAWN = "withdrawn"
STATES = (UNPUBLISHED, PUBLISHED, WITHDRAWN)

FLOW = Workflow("publication", STATES, (
    # published → published: the report was reopened and approved again since; its new
    # figures are public only once published again (see services.publish).
    Action("publish", {UNPUBLISHED: PUBLISHED, WITHDRAWN: PUBLISHED, PUBLISHED: PUBLISHED},
           ABOVE, stamps="published"),
    Action("withdraw", {PUBLISHED: WITHDRAWN}, ABOVE, needs_reason=True, stamps="withdrawn"),
), initial=UNPUBLISHED)
ACTIONS = FLOW.names

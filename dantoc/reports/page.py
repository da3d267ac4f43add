"""The report page as one object: figures, the units below, and what the viewer may do or
why they cannot (period closed, approved, no authority, a level above already has it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..indicators import visibility
from ..workflow import Lock, actors
from . import aggregate, queries, services, states
from .models import UnitReport
from .queries import Child, Target


@dataclass
class ReportPage:
    target: Target
    report: UnitReport | None
    children: list[Child]
    figures: aggregate.Aggregate
    can_submit: bool = False
    can_decide: bool = False
    can_reopen: bool = False
    #: Lock reasons (:class:`~dantoc.workflow.Lock`), most important first, no repeats.
    locks: list[str] = field(default_factory=list)
    #: Villages whose approved version changed after the report was submitted with it.
    changed: list[Child] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.report.state if self.report else states.OPEN

    @property
    def version(self) -> int:
        return self.report.version if self.report else 0

    @property
    def pending(self) -> list[Child]:
        return queries.pending(self.children)

    @property
    def missing(self) -> list[dict]:
        """The units named as missing when the report was submitted (with the reasons)."""
        return list(self.report.missing_note or []) if self.report and self.version else []

    def previous_reason(self, unit_id: int) -> str:
        """The reason given for ``unit_id`` last time (to prefill a resubmission)."""
        return next((m.get("reason", "") for m in self.missing if m.get("unit_id") == unit_id),
                    "")

    def lock(self, reason: str) -> None:
        if reason not in self.locks:
            self.locks.append(reason)


def _changed(report: UnitReport | None, children: list[Child]) -> list[Child]:
    if report is None or report.state not in states.UP:
        return []
    counted = {s.submission_id: s.version_number for s in report.sources}
    return [c for c in children if c.is_village and c.submission is not None
            and c.submission.id in counted
            and (not c.approved or c.submission.current_version != counted[c.submission.id])]


def _submitter_view(page: ReportPage) -> None:
    if states.allowed(page.state, "submit"):
        lock = services.submit_lock(page.target, page.state)
        if lock is None:
            page.can_submit = True
        else:
            page.lock(lock)
    elif page.state == states.SUBMITTED:
        page.lock(Lock.AWAITING_DECISION)


def _decider_view(page: ReportPage, user) -> None:
    report = page.report
    if report is None or page.state not in states.UP:
        page.lock(Lock.WITH_OWNER)
        return
    if actors.own_submission(user, report):
        page.lock(Lock.OWN_SUBMISSION)
        return
    lock = services.decide_lock(report)
    if lock is not None:
        page.lock(lock)
        return
    page.can_decide = page.state == states.SUBMITTED
    page.can_reopen = page.state == states.APPROVED


def build(t: Target, user, report: UnitReport | None = None) -> ReportPage:
    """Everything the report page shows, for ``user``."""
    report = report or queries.report_for(t)
    children = queries.child_states(t)
    figures = aggregate.compute(t, report, visibility.visible_indicators(user))
    page = ReportPage(t, report, children, figures,
                      changed=_changed(report, children))
    if t.unit.parent_id is None:
        page.lock(Lock.TOP_LEVEL)
        return page
    submitter = actors.submits_unit_report(user, t.unit)
    decider = actors.decides_unit_report(user, t.unit)
    if submitter:
        _submitter_view(page)
    if decider:
        _decider_view(page, user)
    if not (submitter or decider):
        page.lock(Lock.NO_AUTHORITY)
    if page.state == states.APPROVED and not page.can_reopen:
        page.lock(Lock.APPROVED)
    return page

"""Write operations on unit reports: submit (the unit's officer), approve / return / reopen
(the level above). Services flush, never commit; the view commits.

Every transition goes through the shared workflow core (:data:`.states.FLOW`,
:mod:`dantoc.workflow`): a conditional ``UPDATE unit_reports … WHERE id = :id AND state =
:expected AND version = :v`` whose row count decides the winner, in the same transaction as
its audit row (reliability.md §4.2 rule 11): of two officers acting on the same version
exactly one wins; the other gets a :class:`~dantoc.refusal.Refusal` ``stale`` (409) and
nothing of theirs is written. The first submission inserts the open row (version 0) in a
savepoint, so two first submissions cannot create two rows either.

A report that has gone up (submitted or approved) freezes the reports below it: a district
report that is up refuses changes to its communes' reports until it is returned, so its
figures cannot change under the province's eyes.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from .. import clock
from ..extensions import db
from ..refusal import Refusal
from ..workflow import REASON_MAX, Lock, insert_first
from . import aggregate, queries, states
from .models import UnitReport, UnitReportSource
from .queries import Child, Target

#: Days after a period closes for villages during which the commune may still submit.
DEFAULT_GRACE_DAYS = 30


def grace_days() -> int:
    return int(current_app.config.get("REPORT_GRACE_DAYS", DEFAULT_GRACE_DAYS))


def submit_lock(t: Target, state: str) -> str | None:
    """Why the report of ``t`` cannot be submitted now whatever its villages, or None.

    A first submission must fall within the period's window plus the grace days; a returned
    report can always be sent again (the level above asked for it).
    """
    parent = queries.parent_report(t)
    if parent is not None and parent.state in states.UP:
        return Lock.PARENT_UP
    if state == states.OPEN:
        day = clock.today()
        if day < t.period.opens_on:
            return Lock.PERIOD_NOT_OPEN
        if day > t.period.closes_on + timedelta(days=grace_days()):
            return Lock.PERIOD_CLOSED
    return None


def decide_lock(report: UnitReport) -> str | None:
    """Why the level above cannot decide on ``report`` now (its own report is up), or None."""
    t = queries.target_of(report)
    parent = queries.parent_report(t) if t else None
    if parent is not None and parent.state in states.UP:
        return Lock.PARENT_UP
    return None


def _create(t: Target) -> UnitReport | None:
    """Insert the open row, or None when a concurrent request inserted it first."""
    report = UnitReport(form_id=t.form.id, unit_id=t.unit.id, period_id=t.period.id,
                        state=states.OPEN, version=0, missing_note=[])
    return insert_first(report)


def _missing_note(waiting: list[Child], reasons: dict[int, str]) -> list[dict]:
    return [{"unit_id": c.unit.id, "code": c.unit.code, "name": c.unit.name,
             "state": c.state, "reason": reasons[c.unit.id]} for c in waiting]


def _store_sources(report: UnitReport, pairs: list[list[int]]) -> None:
    """Replace the report's sources with the approved villages' (submission, version), and
    their aggregated cells."""
    db.session.execute(sa.delete(UnitReportSource).where(UnitReportSource.report_id == report.id))
    db.session.add_all(UnitReportSource(report_id=report.id, submission_id=sid,
                                        version_number=number) for sid, number in pairs)
    db.session.flush()
    aggregate.store_cells(report)  # what the level above adds up (migration 0023)


def submit(t: Target, user, version: int, reasons: dict[int, str]) -> UnitReport:
    """Submit the report of ``t`` on top of ``version`` (audited).

    Every unit below that is not approved must be named with a reason in ``reasons``
    (unit id → text); the report then carries only the approved data, and the named units
    in ``missing_note``.

    :raise Refusal: ``pending`` (422, with the unnamed units in ``extra["pending"]``),
        ``reason_too_long`` (422), ``stale``, ``invalid_transition`` or ``locked`` (409).
    """
    report = queries.report_for(t)
    state = report.state if report else states.OPEN
    states.FLOW.check(report, "submit", version=version, lock=submit_lock(t, state))
    children = queries.child_states(t)
    waiting = queries.pending(children)
    named = {c.unit.id: _missing_reason(reasons.get(c.unit.id)) for c in waiting}
    unnamed = [c for c in waiting if not named[c.unit.id]]
    if unnamed:
        raise Refusal("pending", report, pending=unnamed)
    if report is None:
        report = _create(t)
        if report is None:  # another officer submitted first
            raise Refusal("stale", queries.report_for(t))
    note = _missing_note(waiting, named)
    pairs = [[c.submission.id, c.submission.current_version]
             for c in children if c.is_village and c.approved]
    states.FLOW.transition(report, "submit", user, version=version,
                           values={"missing_note": note, "decided_by_id": None,
                                   "decided_at": None},
                           details={"missing": note, "sources": pairs})
    _store_sources(report, pairs)
    return report


def _missing_reason(text: str | None) -> str:
    """Why a unit below is missing: the reason rule of every workflow, blank allowed (the
    unit is then reported as not named)."""
    text = (text or "").strip()
    if len(text) > REASON_MAX:
        raise Refusal("reason_too_long", max=REASON_MAX)
    return text


def decide(report: UnitReport, action: str, user, version: int,
           reason: str | None = None) -> UnitReport:
    """Take a decision of the level above (``approve``, ``return``, ``reopen``: the
    :data:`~dantoc.workflow.ABOVE` rows of :data:`.states.FLOW`) on ``report`` as it was at
    ``version`` (audited).

    :raise Refusal: ``reason_required`` (422), ``stale``, ``invalid_transition`` or
        ``locked`` (409).
    """
    if action not in states.DECISIONS:
        raise ValueError(action)
    return states.FLOW.transition(report, action, user, version=version, reason=reason,
                                  lock=decide_lock(report))

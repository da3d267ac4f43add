"""Write operations on unit reports: submit (commune officer), approve / return / reopen (the
level above). Services flush, never commit; the view commits.

Every transition is a conditional ``UPDATE unit_reports … WHERE id = :id AND state =
:expected AND version = :v`` whose row count decides the winner, in the same transaction as
its audit row (reliability.md §4.2 rule 11): of two officers acting on the same version
exactly one wins; the other gets :class:`ReportError` ``stale_version`` (409) and nothing of
theirs is written. The first submission inserts the open row (version 0) in a savepoint, so
two first submissions cannot create two rows either.

A report that has gone up (submitted or approved) freezes the reports below it: a district
report that is up refuses changes to its communes' reports until it is returned, so its
figures cannot change under the province's eyes.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..audit import services as audit
from ..extensions import db
from . import queries, states
from .models import UnitReport, UnitReportSource
from .queries import Child, Target

#: Days after a period closes for villages during which the commune may still submit.
DEFAULT_GRACE_DAYS = 30
REASON_MAX = 2000


class ReportError(Exception):
    """A refused transition; ``code`` is stable, ``status`` the HTTP status to answer with."""

    STATUS = {"stale_version": 409, "invalid_transition": 409, "locked": 409,
              "pending": 422, "reason_required": 422}

    def __init__(self, code: str, report: UnitReport | None = None, reason: str | None = None,
                 pending: list[Child] | None = None):
        super().__init__(code)
        self.code, self.report, self.reason = code, report, reason
        self.pending = pending or []
        self.status = self.STATUS[code]


def grace_days() -> int:
    return int(current_app.config.get("REPORT_GRACE_DAYS", DEFAULT_GRACE_DAYS))


def submit_lock(t: Target, state: str) -> str | None:
    """Why the report of ``t`` cannot be submitted now whatever its villages, or None.

    A first submission must fall within the period's window plus the grace days; a returned
    report can always be sent again (the level above asked for it).
    """
    parent = queries.parent_report(t)
    if parent is not None and parent.state in states.UP:
        return states.PARENT_UP
    if state == states.OPEN:
        day = clock.today()
        if day < t.period.opens_on:
            return states.PERIOD_NOT_OPEN
        if day > t.period.closes_on + timedelta(days=grace_days()):
            return states.PERIOD_CLOSED
    return None


def decide_lock(report: UnitReport) -> str | None:
    """Why the level above cannot decide on ``report`` now (its own report is up), or None."""
    t = queries.target_of(report)
    parent = queries.parent_report(t) if t else None
    if parent is not None and parent.state in states.UP:
        return states.PARENT_UP
    return None


def _claim(report: UnitReport, expected_state: str, expected_version: int, /,
           **values) -> bool:
    """Conditional update: only one request can move the report on from (state, version)."""
    result = db.session.execute(
        sa.update(UnitReport)
        .where(UnitReport.id == report.id, UnitReport.state == expected_state,
               UnitReport.version == expected_version)
        .values(updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _create(t: Target) -> UnitReport | None:
    """Insert the open row, or None when a concurrent request inserted it first."""
    report = UnitReport(form_id=t.form.id, unit_id=t.unit.id, period_id=t.period.id,
                        state=states.OPEN, version=0, missing_note=[])
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:
        return None
    return report


def _missing_note(waiting: list[Child], reasons: dict[int, str]) -> list[dict]:
    return [{"unit_id": c.unit.id, "code": c.unit.code, "name": c.unit.name,
             "state": c.state, "reason": reasons[c.unit.id]} for c in waiting]


def _check_submit(t: Target, report: UnitReport | None, version: int) -> str:
    state = report.state if report else states.OPEN
    if not states.allowed(state, "submit"):
        raise ReportError("invalid_transition", report)
    if version != (report.version if report else 0):
        raise ReportError("stale_version", report)
    lock = submit_lock(t, state)
    if lock is not None:
        raise ReportError("locked", report, lock)
    return state


def _store_sources(report: UnitReport, children: list[Child]) -> list[list[int]]:
    """Replace the report's sources with the approved villages' current versions."""
    db.session.execute(sa.delete(UnitReportSource).where(UnitReportSource.report_id == report.id))
    pairs = [[c.submission.id, c.submission.current_version]
             for c in children if c.is_village and c.approved]
    db.session.add_all(UnitReportSource(report_id=report.id, submission_id=sid,
                                        version_number=number) for sid, number in pairs)
    db.session.flush()
    return pairs


def submit(t: Target, user, version: int, reasons: dict[int, str]) -> UnitReport:
    """Submit the report of ``t`` on top of ``version`` (audited).

    Every unit below that is not approved must be named with a reason in ``reasons``
    (unit id → text); the report then carries only the approved data, and the named units
    in ``missing_note``.

    :raise ReportError: ``pending`` (422, with the unnamed units), ``stale_version``,
        ``invalid_transition`` or ``locked`` (409).
    """
    report = queries.report_for(t)
    state = _check_submit(t, report, version)
    children = queries.child_states(t)
    waiting = queries.pending(children)
    named = {c.unit.id: (reasons.get(c.unit.id) or "").strip()[:REASON_MAX] for c in waiting}
    unnamed = [c for c in waiting if not named[c.unit.id]]
    if unnamed:
        raise ReportError("pending", report, pending=unnamed)
    if report is None:
        report = _create(t)
        if report is None:  # another officer submitted first
            raise ReportError("stale_version", queries.report_for(t))
    note = _missing_note(waiting, named)
    if not _claim(report, state, version, state=states.SUBMITTED, version=version + 1,
                  state_reason=None, missing_note=note, submitted_by_id=user.id,
                  submitted_at=clock.now(), decided_by_id=None, decided_at=None):
        raise ReportError("stale_version", report)
    pairs = _store_sources(report, children)
    db.session.refresh(report)
    audit.record("report.submit", report, before={"state": state, "version": version},
                 after={"state": states.SUBMITTED, "version": version + 1, "missing": note,
                        "sources": pairs})
    return report


def decide(report: UnitReport, action: str, user, version: int,
           reason: str | None = None) -> UnitReport:
    """Approve, return or reopen ``report`` as it was at ``version`` (audited).

    :raise ReportError: ``reason_required`` (422), ``stale_version``, ``invalid_transition``
        or ``locked`` (409).
    """
    if action not in states.DECISIONS:
        raise ValueError(action)
    reason = (reason or "").strip()[:REASON_MAX] or None
    if action in states.NEEDS_REASON and reason is None:
        raise ReportError("reason_required", report)
    new = states.target(report.state, action)
    if version != report.version:
        raise ReportError("stale_version", report)
    if new is None:
        raise ReportError("invalid_transition", report)
    lock = decide_lock(report)
    if lock is not None:
        raise ReportError("locked", report, lock)
    before = {"state": report.state, "version": report.version}
    if not _claim(report, report.state, version, state=new, version=version + 1,
                  state_reason=reason if action in states.NEEDS_REASON else None,
                  decided_by_id=user.id, decided_at=clock.now()):
        raise ReportError("stale_version", report)
    db.session.refresh(report)
    audit.record(f"report.{action}", report, before=before,
                 after={"state": new, "version": version + 1, "reason": reason})
    return report

"""Publish (công bố) and withdraw an approved unit report. Services flush, views commit.

Both go through the shared workflow core (:data:`.states.FLOW`): the reason rule, the
version the page showed, the transition table, one conditional update and one audit row
(``publication.publish`` / ``publication.withdraw``) in the same transaction. Only an
approved report may be published; the province's officers (``report.publish``, scope: the
report's unit) do it.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..accounts.permissions import can
from ..refusal import Refusal
from ..reports import states as report_states
from ..reports.models import UnitReport
from ..workflow import Lock, insert_first
from . import states
from .models import ReportPublication

VERB = "report.publish"


def publication_of(report: UnitReport) -> ReportPublication | None:
    from ..extensions import db

    return db.session.scalar(sa.select(ReportPublication).where(
        ReportPublication.report_id == report.id))


def may_publish(user, report: UnitReport) -> bool:
    """Whether ``user`` may publish or withdraw ``report`` (verb and scope)."""
    return can(user, VERB, report.unit)


def _lock(user, report: UnitReport, action: str) -> str | None:
    if not may_publish(user, report):
        return Lock.NO_AUTHORITY
    if action == "publish" and report.state != report_states.APPROVED:
        return Lock.WITH_OWNER
    return None


def _row(report: UnitReport) -> ReportPublication:
    row = publication_of(report)
    if row is not None:
        return row
    row = insert_first(ReportPublication(report_id=report.id, state=states.UNPUBLISHED,
                                         version=0))
    return row if row is not None else publication_of(report)


def publish(report: UnitReport, user, version: int) -> ReportPublication:
    """Publish ``report`` as its publication was at ``version`` (0: never published).

    :raise Refusal: ``locked`` (not approved, or not the user's to publish), ``stale`` or
        ``invalid_transition`` (409).
    """
    current = publication_of(report)
    states.FLOW.check(current, "publish", version=version, lock=_lock(user, report, "publish"))
    if is_current(current, report):
        raise Refusal("invalid_transition", current)  # these very figures are public already
    row = _row(report)
    return states.FLOW.transition(row, "publish", user, version=version,
                                  values={"report_version": report.version},
                                  details={"report_id": report.id,
                                           "report_version": report.version})


def is_current(row: ReportPublication | None, report: UnitReport) -> bool:
    """Whether ``report``'s figures as they are now approved are the public ones."""
    return (row is not None and row.state == states.PUBLISHED
            and report.state == report_states.APPROVED and row.report_version == report.version)


def withdraw(report: UnitReport, user, version: int, reason: str | None) -> ReportPublication:
    """Withdraw the publication of ``report`` with a reason (its figures leave the public
    pages at once).

    :raise Refusal: ``reason_required``, ``reason_too_long`` (422), ``locked``, ``stale`` or
        ``invalid_transition`` (409).
    """
    row = publication_of(report)
    if row is None:
        states.FLOW.check(None, "withdraw", version=version, reason=reason)
        raise Refusal("invalid_transition", report)  # pragma: no cover  (check refuses)
    return states.FLOW.transition(row, "withdraw", user, version=version, reason=reason,
                                  lock=_lock(user, report, "withdraw"),
                                  details={"report_id": report.id})

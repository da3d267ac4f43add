"""``flask sync push``: send this instance's approved unit reports to the centre.

One pass sends, in report order, every approved report whose current version the centre has
not acknowledged yet (``POST /api/v1/reports``, docs/api.md §Reports up), and remembers it
(:class:`~.models.SyncPush`) only after the centre answered 200 or 201. Each request carries
the ``Idempotency-Key`` ``report-<id>-v<version>`` and a body that is a pure function of the
report at that version; so a pass interrupted after the centre stored a report but before we
remembered it sends it again and gets the centre's first answer back (no second copy). Safe
to run twice: the second run finds nothing to send. A report reopened and approved again
has a new version and is sent again; the centre replaces its figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..exchange.received import payload
from ..extensions import db
from ..reports import states
from ..reports.models import UnitReport
from . import status
from .models import PUSH, SyncPush
from .pull import HttpTransport, SyncError, _refused

PATH = "/api/v1/reports"


class HttpPoster(HttpTransport):
    """urllib POST of a JSON body, with the pull's timeout and errors in words."""

    def post(self, url: str, headers: dict[str, str], body: dict) -> tuple[int, Any]:
        return self.send(url, {**headers, "Content-Type": "application/json"},
                         json.dumps(body, ensure_ascii=False).encode(), "POST")


@dataclass
class PushCounts:
    """What a push did: the reports the centre stored now (``sent``) or had already, and the
    ids of all the reports it acknowledged (``reports``)."""

    sent: int = 0
    #: For the sync screen: reports the centre had never had (``new``), reports sent before
    #: in an earlier version whose figures the centre replaced (``replaced``).
    new: int = 0
    replaced: int = 0
    #: Reports the peer had already stored (its answer to us was lost, or the same version).
    already_there: int = 0
    reports: list[int] = field(default_factory=list)


def waiting(peer: str) -> list[tuple[int, int]]:
    """(report id, version) of the approved reports ``peer`` has not acknowledged."""
    sent = sa.select(SyncPush.id).where(SyncPush.peer == peer,
                                        SyncPush.report_id == UnitReport.id,
                                        SyncPush.report_version == UnitReport.version)
    return list(db.session.execute(
        sa.select(UnitReport.id, UnitReport.version)
        .where(UnitReport.state == states.APPROVED, ~sa.exists(sent))
        .order_by(UnitReport.id)).tuples())


RESOURCE = "reports"


def push(peer: str, token: str, transport: Any = None, *,
         max_reports: int | None = None) -> PushCounts:
    """Send the waiting reports to ``peer`` (see the module docstring); stops at the first
    refusal or silence with :class:`SyncError` (what was acknowledged stays remembered).
    How it went is written for the sync screen (:mod:`.status`)."""
    peer = peer.rstrip("/")
    try:
        counts, finished = _push(peer, token, transport or HttpPoster(), max_reports)
    except SyncError as error:
        db.session.rollback()
        status.failed(PUSH, peer, RESOURCE, error)
        raise
    if finished:
        status.succeeded(PUSH, peer, RESOURCE, added=counts.new, changed=counts.replaced,
                         unchanged=len(counts.reports) - counts.new - counts.replaced)
        db.session.commit()
    return counts


def _push(peer: str, token: str, transport: Any, max_reports: int | None
          ) -> tuple[PushCounts, bool]:
    counts = PushCounts()
    url = peer + PATH
    for report_id, version in waiting(peer):
        if max_reports is not None and counts.sent + counts.already_there >= max_reports:
            return counts, False
        report = db.session.get(UnitReport, report_id)
        if report is None or report.state != states.APPROVED or report.version != version:
            continue  # changed since the list was read: the next pass sends it
        body = payload(report)
        db.session.rollback()  # end the read before waiting for the peer
        code, answer = transport.post(url, {
            "Authorization": f"Bearer {token}", "Accept": "application/json",
            "Idempotency-Key": f"report-{report_id}-v{version}"}, body)
        if code not in (200, 201) or not isinstance(answer, dict) or "id" not in answer:
            refusal = _refused(url, code, answer)
            raise SyncError(f"report {body['form']} {body['period']['code']} of unit "
                            f"{body['unit']['code']}: {refusal}", refusal.kind,
                            **refusal.params, report_id=report_id)
        again = db.session.scalar(sa.select(sa.exists().where(
            SyncPush.peer == peer, SyncPush.report_id == report_id)))
        db.session.add(SyncPush(peer=peer, report_id=report_id, report_version=version,
                                remote_id=answer["id"]))
        db.session.commit()
        counts.replaced += again
        if code == 201:
            counts.sent += 1
            counts.new += not again
        else:
            counts.already_there += 1
        counts.reports.append(report_id)
    return counts, True

"""What the sync screen shows: each pass writes how it went (:class:`~.models.SyncStatus`).

A pass that reached the end of its list calls :func:`succeeded` in the transaction of its
last page; a pass that stopped calls :func:`failed` after its rollback, and commits it alone,
so the error is kept even though nothing of the failed page is.
"""

from __future__ import annotations

import sqlalchemy as sa

from .. import clock
from ..extensions import db
from .models import ERROR_KINDS, SyncStatus


def _row(direction: str, peer: str, resource: str) -> SyncStatus:
    row = db.session.scalar(sa.select(SyncStatus).where(
        SyncStatus.direction == direction, SyncStatus.peer == peer,
        SyncStatus.resource == resource))
    if row is None:
        row = SyncStatus(direction=direction, peer=peer, resource=resource, added=0, changed=0,
                         retired=0, unchanged=0)
        db.session.add(row)
    return row


def succeeded(direction: str, peer: str, resource: str, *, added: int = 0, changed: int = 0,
              retired: int = 0, unchanged: int = 0) -> None:
    """The pass read the whole list: its counts replace the last pass's."""
    row = _row(direction, peer, resource)
    row.succeeded_at = clock.now()
    row.added, row.changed, row.retired, row.unchanged = added, changed, retired, unchanged


def failed(direction: str, peer: str, resource: str, error: Exception) -> None:
    """Remember why the pass stopped (commits; call it after the pass's rollback)."""
    kind = getattr(error, "kind", "other")
    row = _row(direction, peer, resource)
    row.failed_at = clock.now()
    row.error_kind = kind if kind in ERROR_KINDS else "other"
    row.error_params = dict(getattr(error, "params", {}))
    row.error_message = str(error)[:2000]
    db.session.commit()


def all_statuses() -> list[SyncStatus]:
    return list(db.session.scalars(sa.select(SyncStatus).order_by(
        SyncStatus.peer, SyncStatus.direction, SyncStatus.id)))

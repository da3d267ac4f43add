"""Where an interrupted pull resumes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..extensions import db


class SyncCursor(db.Model):
    """The cursor after the last page of ``resource`` pulled from ``peer`` and committed.

    Written in the same transaction as the page's rows, and removed when a pass reaches
    the end of the list: the next pass reads the list again from the start (the catalogs
    have no change timestamps to ask for changes only), an interrupted one continues here.
    """

    __tablename__ = "sync_cursors"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    peer: so.Mapped[str] = so.mapped_column(sa.String(300))
    resource: so.Mapped[str] = so.mapped_column(sa.String(40))
    cursor: so.Mapped[str] = so.mapped_column(sa.String(300))
    updated_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now, onupdate=clock.now)

    __table_args__ = (sa.UniqueConstraint("peer", "resource", name="uq_sync_cursors_peer"),)


class SyncPush(db.Model):
    """An approved report version that ``peer`` acknowledged (``flask sync push``).

    Written only after the peer answered 200/201, in its own transaction: a report whose
    answer was lost is sent again with the same ``Idempotency-Key`` and body, and the peer
    replays its first answer instead of storing it twice.
    """

    __tablename__ = "sync_pushes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    peer: so.Mapped[str] = so.mapped_column(sa.String(300))
    report_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("unit_reports.id", ondelete="CASCADE"), index=True)
    #: The report's version that was sent (a reopened and re-approved report is sent again).
    report_version: so.Mapped[int] = so.mapped_column()
    #: The received report's id at the peer.
    remote_id: so.Mapped[int | None] = so.mapped_column()
    pushed_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                      default=clock.now)

    __table_args__ = (sa.UniqueConstraint("peer", "report_id", "report_version",
                                          name="uq_sync_pushes_one"),)

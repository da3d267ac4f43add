"""Where an interrupted pull resumes."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..extensions import db


class SyncCursor(db.Model):
    """The cursor after the last page of ``resource`` pulled from ``peer`` and committed.

    Written in the same transaction as the page's rows, and removed when a pass reaches
    the end of the list: the next pass reads the list again from the start (the catalogs
    have no change timestamps to ask for changes only), an interrupted one continues here.
    For a list read through its change feed (``pull.FEEDS``) it is JSON: the moment the
    feed is read from, the page cursor, the latest change read; kept at the end.
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


class SyncStatus(db.Model):
    """How the last pass of one list went with one peer, for the sync screen.

    ``direction`` is :data:`PULL` (a list copied down, ``resource`` as in ``pull.RESOURCES``)
    or :data:`PUSH` (``resource`` ``reports``: approved reports sent up). A pass that reached
    the end of its list writes its counts and ``succeeded_at``; a pass that stopped writes
    ``failed_at`` and why (``error_kind`` from :data:`ERROR_KINDS`, its ``error_params``, and
    the technical ``error_message``), in a transaction of its own after the rollback. The
    counts and the error are kept until the next pass of the same kind replaces them.
    """

    __tablename__ = "sync_statuses"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    direction: so.Mapped[str] = so.mapped_column(sa.String(10))
    peer: so.Mapped[str] = so.mapped_column(sa.String(300))
    resource: so.Mapped[str] = so.mapped_column(sa.String(40))
    succeeded_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    added: so.Mapped[int] = so.mapped_column(default=0)
    changed: so.Mapped[int] = so.mapped_column(default=0)
    retired: so.Mapped[int] = so.mapped_column(default=0)
    unchanged: so.Mapped[int] = so.mapped_column(default=0)
    failed_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    error_kind: so.Mapped[str | None] = so.mapped_column(sa.String(30))
    error_params: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    error_message: so.Mapped[str | None] = so.mapped_column(sa.Text)

    __table_args__ = (sa.UniqueConstraint("direction", "peer", "resource",
                                          name="uq_sync_statuses_one"),)

    @property
    def failing(self) -> bool:
        """True when the last pass stopped (its error is newer than the last success)."""
        if self.failed_at is None:
            return False
        return self.succeeded_at is None or _aware(self.failed_at) > _aware(self.succeeded_at)


def _aware(moment: datetime) -> datetime:
    """SQLite gives the stored UTC moments back without their zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


PULL, PUSH = "pull", "push"
#: Why a pass stopped, as the sync screen words it (``templates/sync/_status.html``).
ERROR_KINDS = ("unreachable", "refused", "not_json", "not_stored", "missing", "draft_here",
               "missing_parent", "other")

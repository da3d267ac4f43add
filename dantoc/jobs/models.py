"""The jobs table: a queue kept in the application's own database (docs/jobs.md says why)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..extensions import db

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
#: The closed set of job states (a database constraint too).
STATES = (QUEUED, RUNNING, DONE, FAILED)
#: Allowed moves: a running job whose worker died goes back to queued (lease expired).
TRANSITIONS = {QUEUED: {RUNNING}, RUNNING: {DONE, FAILED, QUEUED}, DONE: set(), FAILED: set()}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Job(db.Model):
    """One piece of background work and what became of it.

    ``data`` holds the uploaded file the job works on, so the request can end at once;
    ``params`` its other arguments. A worker claims a job by setting ``locked_by`` and
    ``lease_until`` in one conditional UPDATE; another worker may take it over only once
    the lease has run out (the first worker died), so a job is never run twice at once.
    """

    __tablename__ = "jobs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    owner_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default=QUEUED)
    params: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    data: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)
    #: The file an export produced, committed with ``state = 'done'`` (never half written);
    #: its name and type are in ``result`` (``file``, ``media_type``).
    output: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)
    progress_done: so.Mapped[int] = so.mapped_column(default=0)
    progress_total: so.Mapped[int] = so.mapped_column(default=0)
    result: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    errors: so.Mapped[list | None] = so.mapped_column(sa.JSON)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    max_attempts: so.Mapped[int] = so.mapped_column(default=3)
    run_after: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                      default=clock.now)
    locked_by: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    lease_until: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True),
                                                       default=clock.now)
    started_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    finished_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    owner = so.relationship("User")

    __table_args__ = (
        sa.CheckConstraint(_in("state", STATES), name="state"),
        sa.CheckConstraint("progress_done >= 0 AND progress_total >= 0", name="progress"),
        sa.CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts"),
        sa.CheckConstraint("(state = 'running') = (locked_by IS NOT NULL)", name="lease"),
        sa.Index("ix_jobs_due", "state", "run_after"),
    )

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, 100 * self.progress_done // self.progress_total)

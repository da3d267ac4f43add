"""The publication record of a unit report (see :mod:`.states` for why it is its own row).

One row per report, created the first time it is published. The invariants live in the
database: the state is one of :data:`.states.STATES`; a published row says who published it
and when; a withdrawn one who withdrew it, when and why.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..accounts.models import User
from ..extensions import db
from ..reports.models import UnitReport
from ..workflow.columns import WorkflowRecord
from .states import PUBLISHED, UNPUBLISHED, WITHDRAWN


class ReportPublication(WorkflowRecord, db.Model):
    """Whether an approved unit report's figures are public."""

    __tablename__ = "report_publications"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    report_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("unit_reports.id", ondelete="CASCADE"), unique=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(12), default=UNPUBLISHED)
    # version, state_reason (why it was withdrawn last), created_at and updated_at:
    # WorkflowRecord.
    #: The report version whose figures were published: approving the report again (after a
    #: reopening) makes a new version, which is not public until it is published again.
    report_version: so.Mapped[int | None] = so.mapped_column()
    published_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    published_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    withdrawn_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    report: so.Mapped[UnitReport] = so.relationship()
    published_by: so.Mapped[User | None] = so.relationship(foreign_keys=[published_by_id])
    withdrawn_by: so.Mapped[User | None] = so.relationship(foreign_keys=[withdrawn_by_id])

    __table_args__ = (
        sa.CheckConstraint("state IN ('unpublished', 'published', 'withdrawn')",
                           name="state"),
        sa.CheckConstraint("version >= 0", name="version_positive"),
        sa.CheckConstraint(f"state <> '{PUBLISHED}' OR (published_at IS NOT NULL "
                           "AND published_by_id IS NOT NULL AND report_version IS NOT NULL)",
                           name="published_has_publisher"),
        sa.CheckConstraint(f"state <> '{WITHDRAWN}' OR (withdrawn_at IS NOT NULL "
                           "AND withdrawn_by_id IS NOT NULL AND state_reason IS NOT NULL)",
                           name="withdrawn_has_reason"),
    )

"""Unit reports: the aggregate of one form for one commune (or district) and period.

A :class:`UnitReport` row is created the first time its officer submits it (until then the
report is *open* and shown from live data). One row per form, unit and period. The
invariants live in the database: the state is one of :data:`.states.STATES`, a row is open
exactly while its version is 0, a submitted/returned/approved row says who submitted it and
when, an approved one who approved it, a returned one why.

A commune report keeps the exact village versions it was submitted with
(:class:`UnitReportSource`): submitted versions never change, so the figures of a report
that went up cannot drift when a village is corrected afterwards. A district report has no
sources of its own: its figures are those of its approved commune reports, which are frozen
while the district report is up.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..accounts.models import User
from ..extensions import db
from ..indicators.models import Form
from ..submissions.models import Submission
from ..workflow.columns import UnitAndPeriod, WorkflowRecord
from .states import APPROVED, OPEN, RETURNED, STATES


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UnitReport(UnitAndPeriod, WorkflowRecord, db.Model):
    """The report of one form for one unit above the villages and one period."""

    __tablename__ = "unit_reports"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    form_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("forms.id"), index=True)
    # unit_id, period_id and their relationships: UnitAndPeriod.
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default=OPEN)
    # version, state_reason (of the last return or reopening), created_at and updated_at:
    # WorkflowRecord.
    #: The units below that were not approved when the report was submitted, each with the
    #: officer's reason: ``[{"unit_id", "code", "name", "state", "reason"}, …]``.
    missing_note: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    submitted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    submitted_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decided_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    form: so.Mapped[Form] = so.relationship()
    submitted_by: so.Mapped[User | None] = so.relationship(foreign_keys=[submitted_by_id])
    decided_by: so.Mapped[User | None] = so.relationship(foreign_keys=[decided_by_id])
    sources: so.Mapped[list[UnitReportSource]] = so.relationship(
        back_populates="report", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("form_id", "unit_id", "period_id", name="uq_unit_reports_one"),
        sa.CheckConstraint(_in("state", STATES), name="state"),
        sa.CheckConstraint("version >= 0", name="version_positive"),
        sa.CheckConstraint(f"(state = '{OPEN}') = (version = 0)", name="open_iff_version_0"),
        sa.CheckConstraint(f"state = '{OPEN}' OR (submitted_at IS NOT NULL "
                           "AND submitted_by_id IS NOT NULL)", name="sent_has_submitter"),
        sa.CheckConstraint(f"state <> '{APPROVED}' OR (decided_at IS NOT NULL "
                           "AND decided_by_id IS NOT NULL)", name="approved_has_decider"),
        sa.CheckConstraint(f"state <> '{RETURNED}' OR state_reason IS NOT NULL",
                           name="returned_has_reason"),
        # The reports list, newest change first (migration 0010).
        sa.Index("ix_unit_reports_updated", "updated_at", "id"),
    )


class UnitReportSource(db.Model):
    """One approved village version a commune report was submitted with."""

    __tablename__ = "unit_report_sources"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    report_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("unit_reports.id", ondelete="CASCADE"), index=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("submissions.id"),
                                                     index=True)
    #: The submission's version number that was approved when the report was submitted.
    version_number: so.Mapped[int] = so.mapped_column()

    report: so.Mapped[UnitReport] = so.relationship(back_populates="sources")
    submission: so.Mapped[Submission] = so.relationship()

    __table_args__ = (
        sa.UniqueConstraint("report_id", "submission_id", name="uq_unit_report_sources_one"),
        sa.CheckConstraint("version_number >= 1", name="version_positive"),
    )


class UnitReportCell(db.Model):
    """One aggregated cell of a report's own sources (its villages directly below), written
    in the same transaction as the sources (:func:`.aggregate.store_cells`): sums, bounds and
    counts per indicator, disaggregation and, for a choice, answer. A report that went up
    never changes its sources, so the level above adds up these few rows per report instead
    of every village value below it (migration 0023)."""

    __tablename__ = "unit_report_cells"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    report_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("unit_reports.id", ondelete="CASCADE"), index=True)
    indicator_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("indicators.id"))
    disaggregation: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    #: A choice's answer (one row per answer); None for every other type.
    answer: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: Values counted (one per village).
    villages: so.Mapped[int] = so.mapped_column()
    total: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(18, 4))
    low: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(18, 4))
    high: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(18, 4))
    #: Yes answers (yes/no) and texts written (text), counted.
    yes: so.Mapped[int] = so.mapped_column(default=0)
    texts: so.Mapped[int] = so.mapped_column(default=0)

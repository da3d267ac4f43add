"""reports: the commune (and district) report and its approval by the level above

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unit_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("missing_note", sa.JSON(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('open', 'submitted', 'returned', 'approved')",
                           name=op.f("ck_unit_reports_state")),
        sa.CheckConstraint("version >= 0", name=op.f("ck_unit_reports_version_positive")),
        sa.CheckConstraint("(state = 'open') = (version = 0)",
                           name=op.f("ck_unit_reports_open_iff_version_0")),
        sa.CheckConstraint("state = 'open' OR (submitted_at IS NOT NULL "
                           "AND submitted_by_id IS NOT NULL)",
                           name=op.f("ck_unit_reports_sent_has_submitter")),
        sa.CheckConstraint("state <> 'approved' OR (decided_at IS NOT NULL "
                           "AND decided_by_id IS NOT NULL)",
                           name=op.f("ck_unit_reports_approved_has_decider")),
        sa.CheckConstraint("state <> 'returned' OR state_reason IS NOT NULL",
                           name=op.f("ck_unit_reports_returned_has_reason")),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"],
                                name=op.f("fk_unit_reports_form_id_forms")),
        sa.ForeignKeyConstraint(["unit_id"], ["admin_units.id"],
                                name=op.f("fk_unit_reports_unit_id_admin_units")),
        sa.ForeignKeyConstraint(["period_id"], ["periods.id"],
                                name=op.f("fk_unit_reports_period_id_periods")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"],
                                name=op.f("fk_unit_reports_submitted_by_id_users")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_unit_reports_decided_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_reports")),
        sa.UniqueConstraint("form_id", "unit_id", "period_id", name="uq_unit_reports_one"),
    )
    with op.batch_alter_table("unit_reports") as batch_op:
        for column in ("form_id", "unit_id", "period_id"):
            batch_op.create_index(f"ix_unit_reports_{column}", [column], unique=False)

    op.create_table(
        "unit_report_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("version_number >= 1",
                           name=op.f("ck_unit_report_sources_version_positive")),
        sa.ForeignKeyConstraint(["report_id"], ["unit_reports.id"], ondelete="CASCADE",
                                name=op.f("fk_unit_report_sources_report_id_unit_reports")),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_unit_report_sources_submission_id_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_report_sources")),
        sa.UniqueConstraint("report_id", "submission_id", name="uq_unit_report_sources_one"),
    )
    with op.batch_alter_table("unit_report_sources") as batch_op:
        batch_op.create_index("ix_unit_report_sources_report_id", ["report_id"], unique=False)
        batch_op.create_index("ix_unit_report_sources_submission_id", ["submission_id"],
                              unique=False)


def downgrade():
    op.drop_table("unit_report_sources")
    op.drop_table("unit_reports")

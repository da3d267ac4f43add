"""Submissions: logical submissions, their versions and typed values.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ONE_VALUE = " + ".join(f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)"
                       for c in ("value_numeric", "value_text", "value_bool")) + " = 1"


def _timestamps():
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade():
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_uuid", sa.Uuid(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("state IN ('draft', 'submitted', 'returned', 'approved')",
                           name=op.f("ck_submissions_state")),
        sa.CheckConstraint("current_version >= 0", name=op.f("ck_submissions_version_positive")),
        sa.CheckConstraint("(state = 'draft') = (current_version = 0)",
                           name=op.f("ck_submissions_draft_iff_never_submitted")),
        sa.CheckConstraint("state <> 'returned' OR state_reason IS NOT NULL",
                           name=op.f("ck_submissions_returned_has_reason")),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"],
                                name=op.f("fk_submissions_form_id_forms")),
        sa.ForeignKeyConstraint(["form_version_id"], ["form_versions.id"],
                                name=op.f("fk_submissions_form_version_id_form_versions")),
        sa.ForeignKeyConstraint(["unit_id"], ["admin_units.id"],
                                name=op.f("fk_submissions_unit_id_admin_units")),
        sa.ForeignKeyConstraint(["period_id"], ["periods.id"],
                                name=op.f("fk_submissions_period_id_periods")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_submissions_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("form_id", "client_uuid", name="uq_submissions_form_uuid"),
        sa.UniqueConstraint("form_id", "unit_id", "period_id",
                            name="uq_submissions_one_per_unit"),
    )
    with op.batch_alter_table("submissions") as batch_op:
        for column in ("form_id", "form_version_id", "unit_id", "period_id", "created_by_id"):
            batch_op.create_index(f"ix_submissions_{column}", [column], unique=False)

    op.create_table(
        "submission_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("number >= 1", name=op.f("ck_submission_versions_number_positive")),
        sa.CheckConstraint("base_version >= 0 AND base_version < number",
                           name=op.f("ck_submission_versions_base_before")),
        sa.CheckConstraint("submitted_at IS NULL OR content_hash IS NOT NULL",
                           name=op.f("ck_submission_versions_submitted_has_hash")),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE",
                                name=op.f("fk_submission_versions_submission_id_submissions")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"],
                                name=op.f("fk_submission_versions_submitted_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_versions")),
        sa.UniqueConstraint("submission_id", "number", name="uq_submission_versions_number"),
    )
    with op.batch_alter_table("submission_versions") as batch_op:
        batch_op.create_index("ix_submission_versions_submission_id", ["submission_id"],
                              unique=False)

    op.create_table(
        "submission_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("disaggregation", sa.String(length=200), nullable=False),
        sa.Column("value_numeric", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.CheckConstraint(ONE_VALUE, name=op.f("ck_submission_values_exactly_one_value")),
        sa.ForeignKeyConstraint(["version_id"], ["submission_versions.id"], ondelete="CASCADE",
                                name=op.f("fk_submission_values_version_id_submission_versions")),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicators.id"],
                                name=op.f("fk_submission_values_indicator_id_indicators")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_values")),
        sa.UniqueConstraint("version_id", "indicator_id", "disaggregation",
                            name="uq_submission_values_cell"),
    )
    with op.batch_alter_table("submission_values") as batch_op:
        batch_op.create_index("ix_submission_values_version_id", ["version_id"], unique=False)
        batch_op.create_index("ix_submission_values_indicator_id", ["indicator_id"],
                              unique=False)


def downgrade():
    op.drop_table("submission_values")
    op.drop_table("submission_versions")
    op.drop_table("submissions")

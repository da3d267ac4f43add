"""review: per-field comments on a returned version

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "field_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("disaggregation", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version_number >= 1",
                           name=op.f("ck_field_comments_version_positive")),
        sa.CheckConstraint("length(text) BETWEEN 1 AND 1000",
                           name=op.f("ck_field_comments_text_length")),
        sa.ForeignKeyConstraint(
            ["submission_id", "version_number"],
            ["submission_versions.submission_id", "submission_versions.number"],
            ondelete="CASCADE",
            name=op.f("fk_field_comments_submission_id_submission_versions")),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicators.id"],
                                name=op.f("fk_field_comments_indicator_id_indicators")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_field_comments_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_comments")),
        sa.UniqueConstraint("submission_id", "version_number", "indicator_id", "disaggregation",
                            name="uq_field_comments_field"),
    )
    with op.batch_alter_table("field_comments") as batch_op:
        batch_op.create_index("ix_field_comments_indicator_id", ["indicator_id"], unique=False)
        batch_op.create_index("ix_field_comments_author_id", ["author_id"], unique=False)


def downgrade():
    op.drop_table("field_comments")

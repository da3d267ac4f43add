"""pwa: server quarantine of refused offline submissions; per-user outbox key

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column: a plain ALTER TABLE on every engine (no table rebuild on SQLite).
    op.add_column("users", sa.Column("outbox_key", sa.String(length=44), nullable=True))
    op.create_table(
        "submission_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_uuid", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("form_code", sa.String(length=60), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("period_code", sa.String(length=30), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("error_code", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_submission_quarantine_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_quarantine")),
        sa.UniqueConstraint("user_id", "client_uuid", "content_hash",
                            name="uq_submission_quarantine_once"),
    )
    with op.batch_alter_table("submission_quarantine") as batch_op:
        batch_op.create_index("ix_submission_quarantine_user_id", ["user_id"], unique=False)
        batch_op.create_index("ix_submission_quarantine_unit_id", ["unit_id"], unique=False)


def downgrade():
    op.drop_table("submission_quarantine")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("outbox_key")

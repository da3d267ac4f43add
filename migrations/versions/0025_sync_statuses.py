"""sync_statuses: how the last pull of each list and the last push of reports went with
each peer (last success, counts added/changed/retired, last error), for the sync screen

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sync_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("peer", sa.String(length=300), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_kind", sa.String(length=30), nullable=True),
        sa.Column("error_params", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_statuses")),
        sa.UniqueConstraint("direction", "peer", "resource", name="uq_sync_statuses_one"),
    )


def downgrade():
    op.drop_table("sync_statuses")

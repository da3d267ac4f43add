"""indicators: a derived indicator's formula over other indicators of its catalogue version
(tỷ lệ hộ nghèo = poor_households / households * 100), computed from aggregated figures

Revision ID: 0021
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column: a plain ALTER TABLE on every engine (no table rebuild on SQLite).
    op.add_column("indicators", sa.Column("formula", sa.Text(), nullable=True))


def downgrade():
    # A plain DROP COLUMN on both engines (SQLite >= 3.35): a batch rebuild of "indicators"
    # would drop a table that other tables' foreign keys name, which SQLite refuses.
    op.execute("ALTER TABLE indicators DROP COLUMN formula")

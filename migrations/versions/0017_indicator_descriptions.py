"""indicators: the description the Statistics Law asks of every indicator (khái niệm,
phương pháp tính, phân tổ chủ yếu, kỳ công bố, nguồn số liệu, cơ quan chịu trách nhiệm)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = (("concept", sa.Text()), ("method", sa.Text()),
           ("main_breakdowns", sa.String(length=500)),
           ("publication_period", sa.String(length=100)),
           ("data_source", sa.String(length=500)),
           ("responsible_agency", sa.String(length=300)))


def upgrade():
    # Nullable columns: a plain ALTER TABLE on every engine (no table rebuild on SQLite).
    for name, kind in COLUMNS:
        op.add_column("indicators", sa.Column(name, kind, nullable=True))


def downgrade():
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        for name, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)

"""reports: the aggregated cells of each report's own sources, so that the level above adds
up a few rows per report instead of every village value (issue 11, figures at scale)

Revision ID: 0023
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None

#: The cells of every report that has sources (the same GROUP BY as
#: ``dantoc.reports.aggregate.store_cells``).
BACKFILL = """
INSERT INTO unit_report_cells (report_id, indicator_id, disaggregation, answer, villages,
                               total, low, high, yes, texts)
SELECT s.report_id, v.indicator_id, v.disaggregation,
       CASE WHEN i.value_type = 'choice' THEN v.value_text END,
       count(*), sum(v.value_numeric), min(v.value_numeric), max(v.value_numeric),
       sum(CASE WHEN v.value_bool THEN 1 ELSE 0 END),
       sum(CASE WHEN v.value_text IS NOT NULL AND v.value_text <> '' THEN 1 ELSE 0 END)
FROM unit_report_sources s
JOIN submission_versions sv ON sv.submission_id = s.submission_id
                           AND sv.number = s.version_number
JOIN submission_values v ON v.version_id = sv.id
JOIN indicators i ON i.id = v.indicator_id
GROUP BY s.report_id, v.indicator_id, i.value_type, v.disaggregation,
         CASE WHEN i.value_type = 'choice' THEN v.value_text END
"""


def upgrade():
    op.create_table(
        "unit_report_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("disaggregation", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("villages", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("low", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("high", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.Column("texts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicators.id"],
                                name=op.f("fk_unit_report_cells_indicator_id_indicators")),
        sa.ForeignKeyConstraint(["report_id"], ["unit_reports.id"], ondelete="CASCADE",
                                name=op.f("fk_unit_report_cells_report_id_unit_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_report_cells")),
    )
    op.create_index(op.f("ix_unit_report_cells_report_id"), "unit_report_cells",
                    ["report_id"], unique=False)
    op.execute(BACKFILL)


def downgrade():
    op.drop_index(op.f("ix_unit_report_cells_report_id"), table_name="unit_report_cells")
    op.drop_table("unit_report_cells")

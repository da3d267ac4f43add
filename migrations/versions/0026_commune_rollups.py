"""commune_rollups: the approved village values rolled up per commune, period, indicator and
disaggregation (count, sum, min, max, yes answers), kept with every approval and un-approval,
so that the province's lookup and dashboards read a few rows per commune instead of every
village value (issue 11, figures at scale)

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

#: The rows of every commune from the approved submissions' current versions, set-based
#: (the same GROUP BY as ``dantoc.submissions.rollups.rebuild``).
BACKFILL = """
INSERT INTO commune_rollups (period_id, commune_id, indicator_id, disaggregation, villages,
                             total, low, high, yes)
SELECT s.period_id, u.parent_id, v.indicator_id, v.disaggregation, count(*),
       sum(v.value_numeric), min(v.value_numeric), max(v.value_numeric),
       sum(CASE WHEN v.value_bool THEN 1 ELSE 0 END)
FROM submission_values v
JOIN submission_versions sv ON sv.id = v.version_id
JOIN submissions s ON s.id = sv.submission_id AND sv.number = s.current_version
JOIN admin_units u ON u.id = s.unit_id
WHERE s.state = 'approved' AND u.parent_id IS NOT NULL AND v.value_text IS NULL
GROUP BY s.period_id, u.parent_id, v.indicator_id, v.disaggregation
"""


def upgrade():
    op.create_table(
        "commune_rollups",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("disaggregation", sa.String(length=200), nullable=False),
        sa.Column("villages", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=24, scale=4), nullable=True),
        sa.Column("low", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("high", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.CheckConstraint("villages >= 1",
                           name=op.f("ck_commune_rollups_villages_positive")),
        sa.CheckConstraint("yes >= 0 AND yes <= villages",
                           name=op.f("ck_commune_rollups_yes_counted")),
        sa.CheckConstraint("(total IS NULL) = (low IS NULL) AND (low IS NULL) = (high IS NULL)",
                           name=op.f("ck_commune_rollups_bounds_with_total")),
        sa.CheckConstraint("low <= high", name=op.f("ck_commune_rollups_low_not_above_high")),
        sa.ForeignKeyConstraint(["commune_id"], ["admin_units.id"],
                                name=op.f("fk_commune_rollups_commune_id_admin_units")),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicators.id"],
                                name=op.f("fk_commune_rollups_indicator_id_indicators")),
        sa.ForeignKeyConstraint(["period_id"], ["periods.id"],
                                name=op.f("fk_commune_rollups_period_id_periods")),
        sa.PrimaryKeyConstraint("period_id", "commune_id", "indicator_id", "disaggregation",
                                name=op.f("pk_commune_rollups")),
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_table("commune_rollups")

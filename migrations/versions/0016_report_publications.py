"""statistics: the publication (công bố) of approved unit reports; the verb
``report.publish`` for the province officers and administrators

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

VERB = "report.publish"
ROLES = ("province_officer", "admin")


def upgrade():
    op.create_table(
        "report_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("report_version", sa.Integer(), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('unpublished', 'published', 'withdrawn')",
                           name=op.f("ck_report_publications_state")),
        sa.CheckConstraint("version >= 0", name=op.f("ck_report_publications_version_positive")),
        sa.CheckConstraint("state <> 'published' OR (published_at IS NOT NULL "
                           "AND published_by_id IS NOT NULL AND report_version IS NOT NULL)",
                           name=op.f("ck_report_publications_published_has_publisher")),
        sa.CheckConstraint("state <> 'withdrawn' OR (withdrawn_at IS NOT NULL "
                           "AND withdrawn_by_id IS NOT NULL AND state_reason IS NOT NULL)",
                           name=op.f("ck_report_publications_withdrawn_has_reason")),
        sa.ForeignKeyConstraint(["report_id"], ["unit_reports.id"], ondelete="CASCADE",
                                name=op.f("fk_report_publications_report_id_unit_reports")),
        sa.ForeignKeyConstraint(["published_by_id"], ["users.id"],
                                name=op.f("fk_report_publications_published_by_id_users")),
        sa.ForeignKeyConstraint(["withdrawn_by_id"], ["users.id"],
                                name=op.f("fk_report_publications_withdrawn_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_publications")),
        sa.UniqueConstraint("report_id", name=op.f("uq_report_publications_report_id")),
    )
    roles = ", ".join(f"'{r}'" for r in ROLES)
    op.execute(f"INSERT INTO role_verbs (role_code, verb) SELECT code, '{VERB}' FROM roles "
               f"WHERE code IN ({roles})")


def downgrade():
    op.execute(f"DELETE FROM role_verbs WHERE verb = '{VERB}'")
    op.drop_table("report_publications")

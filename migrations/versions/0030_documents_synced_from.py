"""document groups and documents copied from the centre are marked with where they came from
(synced_from), as the catalogs are since 0027: read-only at the province; a province's
machine account at the centre (role api_reporter) reads internal documents too

Revision ID: 0030
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0028"
branch_labels = None
depends_on = None

PULLED = ("document_groups", "documents")
ROLE, VERB = "api_reporter", "api.documents"


def upgrade():
    for table in PULLED:
        op.add_column(table, sa.Column("synced_from", sa.String(length=300), nullable=True))
    op.execute(sa.text(
        "INSERT INTO role_verbs (role_code, verb) SELECT r.code, :verb FROM roles r "
        "WHERE r.code = :role AND NOT EXISTS (SELECT 1 FROM role_verbs v "
        "WHERE v.role_code = r.code AND v.verb = :verb)").bindparams(role=ROLE, verb=VERB))


def downgrade():
    op.execute(sa.text("DELETE FROM role_verbs WHERE role_code = :role AND verb = :verb")
               .bindparams(role=ROLE, verb=VERB))
    for table in PULLED:  # a plain DROP COLUMN on both engines (SQLite >= 3.35), as 0027
        op.execute(f"ALTER TABLE {table} DROP COLUMN synced_from")

"""submissions: who typed a version in (village, commune on its behalf, file); the verb
``submission.enter_for`` for the commune officers and administrators

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

VERB = "submission.enter_for"
ROLES = ("commune_officer", "admin")


def upgrade():
    with op.batch_alter_table("submission_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=10), nullable=False,
                                      server_default="village"))
        batch_op.create_check_constraint(
            op.f("ck_submission_versions_source"), "source IN ('village', 'commune', 'file')")
    roles = ", ".join(f"'{r}'" for r in ROLES)
    op.execute(f"INSERT INTO role_verbs (role_code, verb) SELECT code, '{VERB}' FROM roles "
               f"WHERE code IN ({roles})")


def downgrade():
    op.execute(f"DELETE FROM role_verbs WHERE verb = '{VERB}'")
    with op.batch_alter_table("submission_versions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_submission_versions_source"), type_="check")
        batch_op.drop_column("source")

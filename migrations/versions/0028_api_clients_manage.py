"""accounts: the verb ``api.clients.manage`` (the admin screens of the API's machine
accounts) for the administrators; no schema change (a rotated token replaces the hash)

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

VERB = "api.clients.manage"
#: Existing roles that get the new verb (new databases get it from ``seed_roles``): the
#: province's administrators, who manage the people's accounts too.
ROLES = ("admin",)


def upgrade():
    roles = ", ".join(f"'{code}'" for code in ROLES)
    op.execute(sa.text(
        "INSERT INTO role_verbs (role_code, verb) SELECT r.code, :verb FROM roles r "
        f"WHERE r.code IN ({roles}) AND NOT EXISTS (SELECT 1 FROM role_verbs v "
        "WHERE v.role_code = r.code AND v.verb = :verb)"
    ).bindparams(verb=VERB))


def downgrade():
    op.execute(sa.text("DELETE FROM role_verbs WHERE verb = :verb").bindparams(verb=VERB))

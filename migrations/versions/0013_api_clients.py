"""api: machine accounts (bearer tokens stored as hashes), the api.read verb, sync cursors

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

VERB = "api.read"
#: Existing roles that get the new verb (new databases get it from ``seed_roles``).
ROLES = ("admin", "api_client")


def upgrade():
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role_code", sa.String(length=30), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["role_code"], ["roles.code"],
                                name=op.f("fk_api_clients_role_code_roles")),
        sa.ForeignKeyConstraint(["unit_id"], ["admin_units.id"],
                                name=op.f("fk_api_clients_unit_id_admin_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_api_clients_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_clients_token_hash")),
    )
    with op.batch_alter_table("api_clients") as batch_op:
        batch_op.create_index(op.f("ix_api_clients_role_code"), ["role_code"], unique=False)
        batch_op.create_index(op.f("ix_api_clients_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "sync_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer", sa.String(length=300), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("cursor", sa.String(length=300), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_cursors")),
        sa.UniqueConstraint("peer", "resource", name="uq_sync_cursors_peer"),
    )
    roles = ", ".join(f"'{code}'" for code in ROLES)
    op.execute(sa.text(
        "INSERT INTO role_verbs (role_code, verb) SELECT r.code, :verb FROM roles r "
        f"WHERE r.code IN ({roles}) AND NOT EXISTS (SELECT 1 FROM role_verbs v "
        "WHERE v.role_code = r.code AND v.verb = :verb)"
    ).bindparams(verb=VERB))


def downgrade():
    op.execute(sa.text("DELETE FROM role_verbs WHERE verb = :verb").bindparams(verb=VERB))
    op.drop_table("sync_cursors")
    op.drop_table("api_clients")

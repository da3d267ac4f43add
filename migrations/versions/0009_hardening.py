"""hardening: throttle attempts shared by every worker and server; the audit trail as a hash chain

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
#: The append-only triggers of 0002, set aside while existing rows get their links.
SQLITE_GUARDS = {
    "audit_events_no_update": """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON
       audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    "audit_events_no_delete": """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON
       audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
}


def _link_existing_rows(bind) -> tuple[int, str]:
    """Give the rows written before this migration their links, in id order. The hash is the
    application's (dantoc.audit.chain.digest), so that ``flask audit verify`` checks them."""
    from dantoc.audit.chain import digest

    table = sa.table("audit_events", *(sa.column(name) for name in (
        "id", "at", "actor_id", "actor_name", "actor_role", "action", "object_type",
        "object_id", "before", "after", "ip", "seq", "prev_hash", "hash")))
    table.c.before.type = sa.JSON()
    table.c.after.type = sa.JSON()
    table.c.at.type = sa.DateTime(timezone=True)
    rows = bind.execute(sa.select(table).order_by(table.c.id)).mappings().all()
    previous, seq = GENESIS, 0
    for row in rows:
        seq += 1
        values = dict(row) | {"seq": seq}
        current = digest(previous, type("Row", (), values))
        bind.execute(table.update().where(table.c.id == row["id"]).values(
            seq=seq, prev_hash=previous, hash=current))
        previous = current
    return seq, previous


def upgrade():
    op.create_table(
        "throttle_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_attempts")),
    )
    with op.batch_alter_table("throttle_attempts") as batch_op:
        batch_op.create_index("ix_throttle_attempts_key_at", ["key", "at"], unique=False)

    # Nullable columns: a plain ALTER TABLE on every engine (no table rebuild on SQLite, so
    # the append-only triggers stay).
    op.add_column("audit_events", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("hash", sa.String(length=64), nullable=True))
    op.create_index("uq_audit_events_seq", "audit_events", ["seq"], unique=True)
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    else:
        for name in SQLITE_GUARDS:
            op.execute(f"DROP TRIGGER {name}")
    seq, head = _link_existing_rows(bind)
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
    else:
        for statement in SQLITE_GUARDS.values():
            op.execute(statement)
    op.bulk_insert(sa.table("audit_chain_head", sa.column("id"), sa.column("seq"),
                            sa.column("hash")), [{"id": 1, "seq": seq, "hash": head}])


def downgrade():
    op.drop_table("audit_chain_head")
    op.drop_index("uq_audit_events_seq", table_name="audit_events")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in ("hash", "prev_hash", "seq"):
            op.drop_column("audit_events", name)
    else:  # a table rebuild, which drops the triggers: put them back
        with op.batch_alter_table("audit_events") as batch_op:
            for name in ("hash", "prev_hash", "seq"):
                batch_op.drop_column(name)
        for statement in SQLITE_GUARDS.values():
            op.execute(statement)
    op.drop_table("throttle_attempts")

"""api: change timestamps for the change feed (admin units, indicator groups, indicators,
document groups), an index on every feed's (updated_at, id), and the api.documents and
api.reports verbs

Revision ID: 0018
Revises: 0017
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

#: Tables that get ``updated_at`` (``documents`` has one since 0011).
TABLES = ("admin_units", "indicator_groups", "indicators", "document_groups")
#: Every table the change feed reads in (updated_at, id) order.
FEEDS = (*TABLES, "documents")
VERBS = ("api.documents", "api.reports")
#: Existing roles that get the new verbs (new databases get them from ``seed_roles``).
ROLES = ("admin", "api_client")


def _sqlite_extras(table: str) -> list[tuple[str, str]]:
    """(name, SQL) of the triggers and explicit indexes of ``table`` on SQLite: a batch
    rebuild drops the triggers (admin_units' no-overlap guard of 0002), so they are put back
    after it."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return []
    return [tuple(row) for row in bind.execute(sa.text(
        "SELECT name, sql FROM sqlite_master WHERE tbl_name = :table "
        "AND type IN ('trigger', 'index') AND sql IS NOT NULL"), {"table": table})]


def _restore(extras: list[tuple[str, str]]) -> None:
    if not extras:
        return
    present = {name for (name,) in op.get_bind().execute(
        sa.text("SELECT name FROM sqlite_master"))}
    for name, sql in extras:
        if name not in present:
            op.execute(sql)


def upgrade():
    # NOT NULL with a server default: existing rows get a value, on SQLite through a table
    # rebuild (batch mode: SQLite adds no column with a non-constant default), on
    # PostgreSQL in place.
    for table in TABLES:
        extras = _sqlite_extras(table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True),
                                          server_default=sa.func.current_timestamp(),
                                          nullable=False))
        _restore(extras)
    # The same moment for every existing row, written by SQLAlchemy so that SQLite stores it
    # in the format the application writes (CURRENT_TIMESTAMP has no microseconds, and the
    # feed compares timestamps as text there).
    now = datetime.now(UTC)
    for table in TABLES:
        op.execute(sa.text(f"UPDATE {table} SET updated_at = :now").bindparams(
            sa.bindparam("now", now, type_=sa.DateTime(timezone=True))))
    for table in FEEDS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_index(f"ix_{table}_updated", ["updated_at", "id"], unique=False)
    roles = ", ".join(f"'{code}'" for code in ROLES)
    for verb in VERBS:
        op.execute(sa.text(
            "INSERT INTO role_verbs (role_code, verb) SELECT r.code, :verb FROM roles r "
            f"WHERE r.code IN ({roles}) AND NOT EXISTS (SELECT 1 FROM role_verbs v "
            "WHERE v.role_code = r.code AND v.verb = :verb)"
        ).bindparams(verb=verb))


def downgrade():
    for verb in VERBS:
        op.execute(sa.text("DELETE FROM role_verbs WHERE verb = :verb").bindparams(verb=verb))
    for table in FEEDS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"ix_{table}_updated")
    for table in TABLES:
        extras = _sqlite_extras(table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("updated_at")
        _restore(extras)

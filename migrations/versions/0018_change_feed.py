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
#: SQLite's constant default (see :func:`upgrade`), in the format SQLAlchemy writes there.
SQLITE_DEFAULT = "1970-01-01 00:00:00.000000"


def upgrade():
    # NOT NULL with a server default, added in place on both engines. No table rebuild on
    # SQLite (batch mode): other tables' foreign keys name these four tables, and SQLite
    # refuses to drop a table whose rows are referenced (and a rebuild drops the 0002
    # triggers). SQLite's ALTER TABLE adds a NOT NULL column only with a constant default,
    # so there the default is a fixed old moment; the application always writes the moment
    # itself (the models' ``default=clock.now``), and every existing row gets the moment of
    # this migration just below.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        if sqlite:
            op.execute(f"ALTER TABLE {table} ADD COLUMN updated_at DATETIME NOT NULL "
                       f"DEFAULT '{SQLITE_DEFAULT}'")
        else:
            op.add_column(table, sa.Column("updated_at", sa.DateTime(timezone=True),
                                           server_default=sa.func.current_timestamp(),
                                           nullable=False))
    # The same moment for every existing row, written by SQLAlchemy so that SQLite stores it
    # in the format the application writes (the feed compares timestamps as text there).
    now = datetime.now(UTC)
    for table in TABLES:
        op.execute(sa.text(f"UPDATE {table} SET updated_at = :now").bindparams(
            sa.bindparam("now", now, type_=sa.DateTime(timezone=True))))
    for table in FEEDS:
        op.create_index(f"ix_{table}_updated", table, ["updated_at", "id"], unique=False)
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
        op.drop_index(f"ix_{table}_updated", table_name=table)
    for table in TABLES:  # a plain DROP COLUMN on both engines (SQLite >= 3.35), as 0021
        op.execute(f"ALTER TABLE {table} DROP COLUMN updated_at")

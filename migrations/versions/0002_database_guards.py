"""Database guards: append-only audit table; no overlapping validity for one unit code.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER admin_units_no_overlap_insert BEFORE INSERT ON admin_units
       WHEN EXISTS (SELECT 1 FROM admin_units u WHERE u.code = NEW.code
                    AND u.valid_from <= COALESCE(NEW.valid_to, '9999-12-31')
                    AND COALESCE(u.valid_to, '9999-12-31') >= NEW.valid_from)
       BEGIN SELECT RAISE(ABORT, 'admin unit validity overlaps another version'); END""",
    """CREATE TRIGGER admin_units_no_overlap_update BEFORE UPDATE ON admin_units
       WHEN EXISTS (SELECT 1 FROM admin_units u WHERE u.code = NEW.code AND u.id <> NEW.id
                    AND u.valid_from <= COALESCE(NEW.valid_to, '9999-12-31')
                    AND COALESCE(u.valid_to, '9999-12-31') >= NEW.valid_from)
       BEGIN SELECT RAISE(ABORT, 'admin unit validity overlaps another version'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER audit_events_no_update",
    "DROP TRIGGER audit_events_no_delete",
    "DROP TRIGGER admin_units_no_overlap_insert",
    "DROP TRIGGER admin_units_no_overlap_update",
]

POSTGRESQL_UP = [
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$""",
    """CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE FUNCTION admin_units_no_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM pg_advisory_xact_lock(hashtext('admin_units:' || NEW.code));
         IF EXISTS (SELECT 1 FROM admin_units u WHERE u.code = NEW.code
                    AND u.id IS DISTINCT FROM NEW.id
                    AND u.valid_from <= COALESCE(NEW.valid_to, 'infinity'::date)
                    AND COALESCE(u.valid_to, 'infinity'::date) >= NEW.valid_from) THEN
           RAISE EXCEPTION 'admin unit validity overlaps another version'
             USING ERRCODE = 'check_violation';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER admin_units_no_overlap BEFORE INSERT OR UPDATE ON admin_units
       FOR EACH ROW EXECUTE FUNCTION admin_units_no_overlap()""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER admin_units_no_overlap ON admin_units",
    "DROP FUNCTION admin_units_no_overlap()",
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
    "DROP TRIGGER audit_events_no_change ON audit_events",
    "DROP FUNCTION audit_events_append_only()",
]


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    _run(POSTGRESQL_UP if dialect == "postgresql" else SQLITE_UP)


def downgrade():
    dialect = op.get_bind().dialect.name
    _run(POSTGRESQL_DOWN if dialect == "postgresql" else SQLITE_DOWN)

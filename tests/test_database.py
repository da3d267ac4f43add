"""Schema built by migrations; models and migrations agree; database guards hold."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dantoc.documents.search import INDEX_OBJECTS
from dantoc.extensions import db


def _modelled(name, _type, _parents) -> bool:
    """Leave out the search index objects that only migrations create (engine-specific)."""
    return name not in INDEX_OBJECTS


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_name": _modelled})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_are_at_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    config = Config(str(app.extensions["migrate"].directory + "/alembic.ini"))
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    head = ScriptDirectory.from_config(config).get_current_head()
    current = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert current == head


def test_audit_table_refuses_update_and_delete(app):
    from dantoc.audit import services as audit

    audit.record("test.event", after={"x": 1})
    db.session.commit()
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert db.session.scalar(sa.text("SELECT count(*) FROM audit_events "
                                     "WHERE action = 'test.event'")) == 1


def test_connection_settings(app):
    """SQLite: WAL, FULL sync, foreign keys, busy timeout. PostgreSQL: READ COMMITTED."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            level = connection.exec_driver_sql("SHOW transaction_isolation").scalar()
            assert level == "read committed"
            return
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 30_000

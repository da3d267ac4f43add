"""The application's database role cannot bypass the append-only audit trail.

PostgreSQL: the app connects as a role that owns nothing and has only SELECT and INSERT on
``audit_events`` (``flask grant-app-role``, docs/deployment.md): it cannot delete or change
rows, truncate, or switch the triggers off, and the application works under it (sign-in,
audit rows, the throttle). SQLite has no roles: the triggers refuse UPDATE and DELETE, and a
file owner who drops them is caught by ``flask audit verify`` (tests/test_audit_chain.py).
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.audit import services as audit
from dantoc.audit.chain import verify
from dantoc.extensions import db
from tests.conftest import ENGINE, _pg_admin_engine, base_config
from tests.factories import PASSWORD, make_user
from tests.security_tree import fresh_client

TAMPERING = ("DELETE FROM audit_events", "UPDATE audit_events SET action = 'x'",
             "TRUNCATE audit_events", "ALTER TABLE audit_events DISABLE TRIGGER USER",
             "DROP TRIGGER audit_events_no_change ON audit_events")


@pytest.fixture
def restricted_url(app, runner, database_url):
    """The test database's URL for a new login role given the app's grants."""
    role = f"dantoc_app_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_engine()
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{role}'")
    result = runner.invoke(args=["grant-app-role", role])
    assert result.exit_code == 0, result.output
    url = sa.make_url(database_url).set(username=role, password=role)
    yield url.render_as_string(hide_password=False)
    with db.engine.begin() as connection:  # as the owner: the role's grants go first
        connection.exec_driver_sql(f"DROP OWNED BY {role}")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP ROLE {role}")
    admin.dispose()


if ENGINE == "postgresql":

    def test_the_app_works_under_a_role_that_cannot_tamper(app, restricted_url):
        username = make_user("province_officer").username
        audit.record("test.before")
        db.session.commit()
        restricted = create_app(base_config(restricted_url))
        with restricted.app_context():
            client = fresh_client(restricted)
            wrong = client.post("/accounts/login", data={"username": username,
                                                         "password": "wrong"})
            assert wrong.status_code == 200  # evaluated, counted, audited
            right = client.post("/accounts/login", data={"username": username,
                                                         "password": PASSWORD})
            assert right.status_code == 303
            assert verify().ok
            for statement in TAMPERING:
                with (pytest.raises(sa.exc.ProgrammingError, match=r"permission denied|owner"),
                      db.engine.begin() as connection):
                    connection.exec_driver_sql(statement)
            db.session.remove()
            db.engine.dispose()
        actions = db.session.scalars(sa.text(
            "SELECT action FROM audit_events ORDER BY seq")).all()
        assert actions[-2:] == ["auth.login_failed", "auth.login"]

else:

    def test_the_triggers_refuse_changes_to_the_audit_trail(app):
        audit.record("test.before")
        db.session.commit()
        for statement in TAMPERING[:2]:
            with (pytest.raises(sa.exc.IntegrityError, match="append-only"),
                  db.engine.begin() as connection):
                connection.exec_driver_sql(statement)
        assert verify().ok

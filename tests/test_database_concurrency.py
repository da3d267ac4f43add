"""Several worker processes writing at once never fail with "database is locked".

gunicorn runs several worker *processes* over one database. Each process here builds its own
app, as a worker does, and runs read-then-write transactions as fast as it can inside a POST
request context. On SQLite that takes ``BEGIN IMMEDIATE`` (see ``dantoc.database``); on
PostgreSQL it is plain READ COMMITTED. The control runs the same workload as GET requests
(``BEGIN DEFERRED``) on SQLite and shows that the test would catch the failure.
"""

from __future__ import annotations

import os
import queue
import traceback

import pytest
import sqlalchemy as sa

from tests import forks
from tests.conftest import ENGINE, SQLiteDatabases, base_config

PROCESSES = 4
ITERATIONS = 50
ACTION = "test.concurrency"
#: runs of the control workload before it counts as "never locked"
CONTROL_RUNS = 5
#: seconds a worker process may take to start, run and report
DEADLINE = 180


def _worker(database_url: str, method: str, iterations: int, barrier, results) -> None:
    """One "gunicorn worker": its own app and engine, ``iterations`` transactions."""
    try:
        from dantoc import create_app
        from dantoc.audit import services as audit
        from dantoc.audit.models import AuditEvent
        from dantoc.extensions import db

        config = base_config(database_url)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}  # the production pool
        app = create_app(config)
        committed, errors = 0, []
        with app.app_context():
            barrier.wait(timeout=DEADLINE)
            for i in range(iterations):
                with app.test_request_context("/", method=method):
                    try:
                        seen = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
                        audit.record(ACTION, after={"pid": os.getpid(), "i": i, "seen": seen})
                        db.session.commit()
                        committed += 1
                    except Exception as error:  # every failure is the finding, not a crash
                        db.session.rollback()
                        errors.append(f"{type(error).__name__}: {error}".splitlines()[0])
            db.engine.dispose()
        results.put((os.getpid(), committed, errors))
    except BaseException:
        results.put((os.getpid(), 0, [traceback.format_exc()]))


def run_workload(database_url: str, method: str, iterations: int = ITERATIONS):
    """Run ``PROCESSES`` workers at once; return (commits reported, errors, rows in the DB)."""
    # Workers forked from the suite's fork server (tests/forks.py: it has imported this
    # module and every ``dantoc`` module), not fresh interpreters that each spent ~5 s of CPU
    # importing the app. It is a process of its own with one thread, so nothing of the test
    # process (threads, connections, locks) is inherited; each worker builds its own app and
    # engine, as a gunicorn worker does.
    ctx = forks.context()
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(database_url, method, iterations, barrier,
                                                 results)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    try:
        reports = [results.get(timeout=DEADLINE) for _ in workers]
    except queue.Empty:
        pytest.fail("a worker process reported nothing within the deadline")
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    committed = sum(report[1] for report in reports)
    errors = [error for report in reports for error in report[2]]
    return committed, errors, _rows(database_url)


def _rows(database_url: str) -> int:
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text(
                "SELECT count(*) FROM audit_events WHERE action = :action"), {"action": ACTION})
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(database_url, tmp_path):
    """A migrated SQLite database, whichever engine this run tests."""
    if ENGINE == "sqlite":
        return database_url
    databases = SQLiteDatabases(tmp_path)
    databases.build_template()
    return f"sqlite:///{databases.template}"


def test_concurrent_write_transactions_never_fail(database_url):
    committed, errors, rows = run_workload(database_url, "POST")
    assert errors == []
    assert committed == rows == PROCESSES * ITERATIONS


def test_control_deferred_transactions_do_fail_on_sqlite(sqlite_url):
    """Without BEGIN IMMEDIATE the same workload hits "database is locked": the test can fail.

    The failure needs two workers' transactions to interleave; on a loaded machine the
    scheduler may run the four workers one after the other for a whole run, so the workload
    is run again (at most :data:`CONTROL_RUNS` times) until one run shows it."""
    before = 0  # the rows of the runs before this one
    for _ in range(CONTROL_RUNS):
        committed, errors, rows = run_workload(sqlite_url, "GET")
        if errors:
            break
        before = rows
    assert any("database is locked" in error for error in errors), errors[:3]
    assert all("database is locked" in error for error in errors), errors[:3]
    assert rows - before == committed == PROCESSES * ITERATIONS - len(errors)

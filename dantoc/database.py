"""Engine set-up that makes SQLite safe for several gunicorn workers.

SQLite: every connection gets WAL, ``synchronous=FULL``, foreign keys and a busy timeout.
pysqlite's own transaction handling is switched off and we emit ``BEGIN`` ourselves
(the recipe in SQLAlchemy's SQLite dialect docs). Transactions opened while handling a
request with an unsafe method (POST, PUT, PATCH, DELETE), and all transactions outside a
request (CLI, seeding), start with ``BEGIN IMMEDIATE``: they take the write lock first and
wait up to the busy timeout for it, instead of failing with "database is locked" when a
read transaction tries to upgrade to a write. GET requests stay ``BEGIN DEFERRED`` so
readers never queue behind writers (WAL lets them read a snapshot).
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


#: Execution option of a connection that only reads, whatever the request (a process cache
#: loading shared definitions in a session of its own, beside the request's writer).
READ_ONLY = "dantoc_read_only"


def _begin_statement(connection) -> str:
    if connection.get_execution_options().get(READ_ONLY):
        return "BEGIN DEFERRED"
    if has_request_context() and request.method in SAFE_METHODS:
        return "BEGIN DEFERRED"
    return "BEGIN IMMEDIATE"


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Attach the pragma and BEGIN listeners to a SQLite engine (idempotent)."""
    if getattr(engine, "_dantoc_configured", False):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(_begin_statement(connection))

    engine._dantoc_configured = True


def init_app(app: Flask) -> None:
    """Configure the engines of ``db`` once they exist."""
    from .extensions import db

    with app.app_context():
        engine = db.engine
        if is_sqlite(engine):
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

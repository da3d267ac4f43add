"""Engine set-up that makes SQLite safe for several gunicorn workers.

SQLite: every connection gets WAL, ``synchronous=FULL``, foreign keys and a busy timeout.
pysqlite's own transaction handling is switched off and we emit ``BEGIN`` ourselves
(the recipe in SQLAlchemy's SQLite dialect docs). Transactions opened while handling a
request with an unsafe method (POST, PUT, PATCH, DELETE), and all transactions outside a
request (CLI, seeding), start with ``BEGIN IMMEDIATE``: they take the write lock first and
wait up to the busy timeout for it, instead of failing with "database is locked" when a
read transaction tries to upgrade to a write. GET requests stay ``BEGIN DEFERRED`` so
readers never queue behind writers (WAL lets them read a snapshot). A GET that must write
once (the outbox key, created on first use) ends its read transaction and opens a write
transaction of its own inside :func:`writing`, which takes ``BEGIN IMMEDIATE`` too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Set inside :func:`writing`: the next transaction takes the write lock first.
_write_intent: ContextVar[bool] = ContextVar("dantoc_write_intent", default=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


#: Execution option of a connection that only reads, whatever the request (a process cache
#: loading shared definitions in a session of its own, beside the request's writer).
READ_ONLY = "dantoc_read_only"


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside this block start with ``BEGIN IMMEDIATE`` on SQLite, even
    in a GET request. End the current transaction before entering (``db.session.commit()`` or
    ``rollback()``): a deferred transaction that has read cannot take the write lock later
    without "database is locked"."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def _begin_statement(connection) -> str:
    if connection.get_execution_options().get(READ_ONLY):
        return "BEGIN DEFERRED"
    if _write_intent.get():
        return "BEGIN IMMEDIATE"
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
        # Straight to the driver: BEGIN returns no rows, and SQLAlchemy's execution path
        # (events, cursor result) cost about 40 µs of every request, a tenth of a statement.
        # An error is wrapped as SQLAlchemy wraps the driver's errors.
        statement = _begin_statement(connection)
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.Error as error:
            raise DBAPIError.instance(statement, (), error, sqlite3.Error) from error

    engine._dantoc_configured = True


def init_app(app: Flask) -> None:
    """Configure the engines of ``db`` once they exist."""
    from .extensions import db

    with app.app_context():
        engine = db.engine
        if is_sqlite(engine):
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

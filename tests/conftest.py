"""Test fixtures. The suite runs on one engine per pytest run:

- SQLite (default): a template database file is built once per session through the
  migrations, then copied for every test;
- PostgreSQL when ``DANTOC_TEST_ENGINE=postgresql``: the template is a database on the
  server at ``DANTOC_TEST_DATABASE_URL``; each test gets ``CREATE DATABASE … TEMPLATE``.

Either way every test starts from migrated schema + reference catalogs + default roles,
and no test sees another's writes.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.accounts.passwords import Argon2Cost
from dantoc.config import normalise_database_url
from dantoc.extensions import db

ENGINE = os.environ.get("DANTOC_TEST_ENGINE", "sqlite")
PG_URL = os.environ.get("DANTOC_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: The cheapest Argon2id argon2-cffi accepts: at the production cost (pinned by
#: tests/test_accounts_passwords.py) every password check of a test would take ~0.4 s.
ARGON2_TEST_COST = Argon2Cost(memory_kib=8, time_cost=1, parallelism=1)
_counter = itertools.count()


def base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": sa.pool.NullPool},
        "WTF_CSRF_ENABLED": False,
        **ARGON2_TEST_COST.as_config(),
    }


def _build(app) -> None:
    """Migrate an empty database and load the reference data every test expects."""
    from flask_migrate import upgrade

    from dantoc.accounts.services import seed_roles
    from dantoc.catalogs.reference import load_reference

    with app.app_context():
        upgrade()
        seed_roles()
        load_reference()
        db.session.commit()
        db.engine.dispose()


def _pg_admin_engine() -> sa.Engine:
    return sa.create_engine(normalise_database_url(PG_URL), isolation_level="AUTOCOMMIT",
                            poolclass=sa.pool.NullPool)


def _pg_url(name: str) -> str:
    url = sa.make_url(normalise_database_url(PG_URL)).set(database=name)
    return url.render_as_string(hide_password=False)


class SQLiteDatabases:
    def __init__(self, directory: Path):
        self.directory = directory
        self.template = directory / "template.sqlite3"

    def build_template(self) -> None:
        _build(create_app(base_config(f"sqlite:///{self.template}")))

    def new(self) -> str:
        target = self.directory / f"test-{next(_counter)}.sqlite3"
        with sqlite3.connect(self.template) as source, sqlite3.connect(target) as dest:
            source.backup(dest)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    def cleanup(self) -> None:
        pass


class PostgresDatabases:
    """Databases copied from a migrated template with ``CREATE DATABASE … TEMPLATE``.

    A copy takes the server about half a second (PostgreSQL writes the whole new database
    through its WAL), so the next tests' copies are made :data:`AHEAD` at a time in the
    background while a test runs. ``DROP DATABASE`` waits for an immediate checkpoint
    (PostgreSQL 15), which takes seconds, or minutes, when other suites share the server and
    its checkpointer, so finished tests' databases are dropped in batches of :data:`BATCH`,
    all at the same time, by threads of their own: drops waiting together share one
    checkpoint (one request per batch instead of one per test), and a slow drop never holds
    up the next copy. Each test still gets a database of its own, fresh from the template.
    """

    AHEAD = 2
    BATCH = 16

    def __init__(self):
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        self.prefix = f"dantoc_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.admin = _pg_admin_engine()
        self.workers = ThreadPoolExecutor(max_workers=self.AHEAD, thread_name_prefix="pgcopy")
        self.droppers = ThreadPoolExecutor(max_workers=self.BATCH, thread_name_prefix="pgdrop")
        self.ahead = deque()
        self.finished: list[str] = []
        self.drops = []

    def _exec(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def build_template(self) -> None:
        self._exec(f'CREATE DATABASE "{self.template}"')
        _build(create_app(base_config(_pg_url(self.template))))

    def _copy(self) -> str:
        name = f"{self.prefix}_{next(_counter)}"
        self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return _pg_url(name)

    def new(self) -> str:
        while len(self.ahead) <= self.AHEAD:
            self.ahead.append(self.workers.submit(self._copy))
        return self.ahead.popleft().result()

    def _drop(self, url: str) -> None:
        name = sa.make_url(url).database
        self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop(self, url: str) -> None:
        self.finished.append(url)
        if len(self.finished) >= self.BATCH:
            self._drop_finished()

    def _drop_finished(self) -> None:
        self.drops += [self.droppers.submit(self._drop, url) for url in self.finished]
        self.finished = []

    def cleanup(self) -> None:
        self.finished += [future.result() for future in self.ahead]  # made, never used
        self._drop_finished()
        for future in self.drops:
            future.result()  # a failed drop fails the session here, not silently
        self.workers.shutdown()
        self.droppers.shutdown()
        self._exec(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile ``translations/*/LC_MESSAGES/*.po`` when a ``.mo`` is missing or stale: the
    ``.mo`` files are build output (git-ignored), written atomically."""
    from dantoc.i18n.message_catalogs import compile_all

    compile_all()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """The per-engine database factory, with its template built once."""
    dbs = PostgresDatabases() if ENGINE == "postgresql" else SQLiteDatabases(
        tmp_path_factory.mktemp("db"))
    dbs.build_template()
    yield dbs
    dbs.cleanup()


@pytest.fixture
def database_url(databases):
    """A fresh database for one test, dropped afterwards."""
    url = databases.new()
    yield url
    databases.drop(url)


@contextmanager
def app_on(database_url: str, **overrides):
    """A test app on ``database_url`` (``base_config`` with ``overrides``), its app context
    pushed; its connections closed at the end."""
    from tests.client import FreshClient

    app = create_app(base_config(database_url) | overrides)
    app.test_client_class = FreshClient  # an empty ``g`` per request, as in production
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(database_url):
    with app_on(database_url) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """Sign a user in without the sign-in form: ``login(user)`` puts the user's session in
    the client's cookie (:func:`tests.factories.signed_in`) and returns the client. Only the
    sign-in tests post the real form."""
    from tests.factories import signed_in

    return lambda user: signed_in(client, user)


@pytest.fixture
def entry(app, login):
    """A village head signed in, a questionnaire and an open period
    (:class:`tests.factories.Setup`)."""
    from tests.factories import Setup

    return Setup(login)

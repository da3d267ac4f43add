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
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.accounts.passwords import Argon2Cost
from dantoc.config import normalise_database_url
from dantoc.extensions import db
from tests.compiled import COMPILED_SQL

ENGINE = os.environ.get("DANTOC_TEST_ENGINE", "sqlite")
PG_URL = os.environ.get("DANTOC_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: The cheapest Argon2id argon2-cffi accepts: at the production cost (pinned by
#: tests/test_accounts_passwords.py) every password check of a test would take ~0.4 s.
ARGON2_TEST_COST = Argon2Cost(memory_kib=8, time_cost=1, parallelism=1)
_counter = itertools.count()


def _share_routes() -> None:
    """Let the test apps share their compiled URL maps (:mod:`tests.routing`)."""
    import flask

    from tests.routing import SharedMap

    flask.Flask.url_map_class = SharedMap


_share_routes()


def _collect_garbage_less_often() -> None:
    """Every test leaves its app behind as cyclic garbage (app, blueprints, extensions,
    engine, Jinja environment), which only a full collection frees: with Python's default
    thresholds (700, 10, 10) the collector ran 2,800 times over five view modules and took
    3.5 s of their 27 s of CPU, 2.7 s of it in 20 full collections. At (10,000, 20, 20) it
    ran 144 times and took 1.7 s; the garbage is the same, collected in fewer passes."""
    import gc

    gc.set_threshold(10_000, 20, 20)


_collect_garbage_less_often()


class SharedTemplateCode(jinja2.BytecodeCache):
    """Jinja's compiled templates, kept in memory for every app of the test session.

    Each test's new app has a new Jinja environment, which would parse and compile every
    template it renders again (a third of a view test's time). Jinja's documented bytecode
    cache keys each template by its name and a checksum of its source, so an edited template
    is compiled anew; all test apps share one configuration, so the code is the same.
    """

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()
#: Every test engine's compiled statements in one cache (:mod:`tests.compiled`).
SHARED_SQL = {"execution_options": {"compiled_cache": COMPILED_SQL}}


def base_config(database_url: str) -> dict:
    """A test app's configuration, without a connection pool: an app a test builds for itself
    closes every connection as it is returned (``app_on`` gives its apps a pool)."""
    return {
        "TESTING": True,
        "ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": sa.pool.NullPool, **SHARED_SQL},
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
    """The URL of the test database ``name``. Its sessions commit without waiting for the
    server to flush the WAL to disk (``synchronous_commit=off``, a per-session setting):
    the same transactions, visibility and locks; only a crash of the machine could lose the
    last commits, which a test database does not outlive. It saves ~1 ms of every commit,
    as the SQLite test files in memory save their flushes."""
    url = sa.make_url(normalise_database_url(PG_URL)).set(database=name).update_query_dict(
        {"options": "-c synchronous_commit=off"})
    return url.render_as_string(hide_password=False)


class SQLiteDatabases:
    """Database files copied from a migrated template with SQLite's backup API.

    The files live in memory (``/dev/shm``) when the machine has it: the app keeps its
    production pragmas (WAL, ``synchronous=FULL``), and the flushes they ask for cost nothing
    on a memory file system, instead of a disk write at every commit of every test.
    """

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

    When the server runs on this machine and its data directory's owner can be given a
    directory in ``/dev/shm``, the template and the copies live in a tablespace there (see
    :class:`MemoryTablespace`), as the SQLite test databases do.
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
        self.tablespace = MemoryTablespace.create(self.admin, f"{self.prefix}_mem")
        self.placed = f' TABLESPACE "{self.tablespace.name}"' if self.tablespace else ""
        self.copied = self.placed + self._file_copy()

    def _file_copy(self) -> str:
        """In memory, copy the template's files instead of writing every block of the copy
        through the WAL (PostgreSQL 15's default, ``STRATEGY WAL_LOG``): the server's CPU
        per copy and drop fell from ~78 ms to ~43 ms (all its processes, 20 copies of the
        migrated template). ``FILE_COPY`` asks for a checkpoint first, which costs nothing
        for files in memory; on disk the default stays."""
        if not self.tablespace:
            return ""
        with self.admin.connect() as conn:
            version = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
        return " STRATEGY FILE_COPY" if version >= 150000 else ""

    def _exec(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def build_template(self) -> None:
        self._exec(f'CREATE DATABASE "{self.template}"{self.placed}')
        _build(create_app(base_config(_pg_url(self.template))))

    def _copy(self) -> str:
        name = f"{self.prefix}_{next(_counter)}"
        self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"{self.copied}')
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
        if self.tablespace:
            self.tablespace.drop(self.admin)
        self.admin.dispose()


@dataclass
class MemoryTablespace:
    """A PostgreSQL tablespace in ``/dev/shm`` for the test databases.

    Every test's database is a new copy of the template, ~700 files; ``DROP DATABASE`` forces
    an immediate checkpoint, which writes and ``fsync``s every file created since the last
    one. On this machine's disk that held drops for minutes (1,400 databases waiting to be
    dropped, ``CheckpointDone`` in ``pg_stat_activity``, the disk busy for the whole run). In
    memory the same checkpoints cost nothing, as the SQLite tests' flushes in ``/dev/shm``.
    Only where the server is on this machine and this process may hand the directory to the
    server's owner (the data directory's); otherwise the server's default tablespace.
    """

    #: Bytes free in /dev/shm to use it: each copy takes ~11 MB, and each worker keeps up to
    #: ~40 (the template, those made ahead, those waiting to be dropped).
    NEEDS = 2 * 1024**3

    name: str
    directory: Path

    @classmethod
    def create(cls, admin: sa.Engine, name: str) -> MemoryTablespace | None:
        import tempfile

        shm = shared_memory()
        if admin.url.host not in (None, "", "localhost", "127.0.0.1", "::1") or shm is None:
            return None
        free = os.statvfs(shm)
        if free.f_bavail * free.f_frsize < cls.NEEDS:
            return None  # a container's small /dev/shm (64 MB by default in Docker)
        try:
            with admin.connect() as conn:
                data = Path(conn.exec_driver_sql("SHOW data_directory").scalar_one())
            owner = data.stat()
            directory = Path(tempfile.mkdtemp(prefix="dantoc-pg-", dir=shm))
        except (sa.exc.DBAPIError, OSError):
            return None  # not a superuser, or not this machine's server
        try:
            os.chown(directory, owner.st_uid, owner.st_gid)
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE TABLESPACE \"{name}\" LOCATION '{directory}'")
        except (sa.exc.DBAPIError, OSError):
            directory.rmdir()
            return None
        return cls(name, directory)

    def drop(self, admin: sa.Engine) -> None:
        import shutil

        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP TABLESPACE IF EXISTS "{self.name}"')
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """Compile ``translations/*/LC_MESSAGES/*.po`` when a ``.mo`` is missing or stale: the
    ``.mo`` files are build output (git-ignored), written atomically."""
    from dantoc.i18n.message_catalogs import compile_all

    compile_all()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """The per-engine database factory, with its template built once."""
    if ENGINE == "postgresql":
        dbs = PostgresDatabases()
        dbs.build_template()
        yield dbs
        dbs.cleanup()
        return
    with memory_directory(tmp_path_factory) as directory:
        dbs = SQLiteDatabases(directory)
        dbs.build_template()
        yield dbs


def shared_memory() -> Path | None:
    """``/dev/shm`` when the machine has it and this process may write there (each user makes
    a private directory of its own in it with ``mkdtemp``)."""
    shm = Path("/dev/shm")  # noqa: S108
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


@contextmanager
def memory_directory(tmp_path_factory):
    """A directory in ``/dev/shm`` (removed afterwards), or pytest's temporary one where the
    machine has no shared memory file system."""
    import shutil
    import tempfile

    shm = shared_memory()
    if shm is None:
        yield tmp_path_factory.mktemp("db")
        return
    directory = Path(tempfile.mkdtemp(prefix="dantoc-tests-", dir=shm))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def database_url(databases):
    """A fresh database for one test, dropped afterwards."""
    url = databases.new()
    yield url
    databases.drop(url)


#: The engine options of ``app_on``'s apps: SQLAlchemy's default pool for the URL, as in
#: production. Without one every request of a test opened a new connection, which on
#: PostgreSQL (a backend forked and authenticated per connection) was about a third of the
#: test process's time (py-spy, three view modules). ``app_on`` disposes of the pool at the
#: end; an app built elsewhere keeps ``NullPool`` (an undisposed pool's connections would be
#: closed by the garbage collector, in whichever test it runs, with a ResourceWarning).
POOLED = {"SQLALCHEMY_ENGINE_OPTIONS": SHARED_SQL}


@contextmanager
def app_on(database_url: str, **overrides):
    """A test app on ``database_url`` (``base_config`` with ``overrides``), its app context
    pushed; its connections closed at the end."""
    from tests.client import FreshClient

    app = create_app(base_config(database_url) | POOLED | overrides)
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
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

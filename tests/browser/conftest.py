"""Browser-test fixtures: gunicorn serving a freshly built database, and Debian's chromium.

The database is built the way ``scripts/run`` builds one: ``flask db upgrade``,
``seed-reference`` and ``seed-demo`` on an empty database (a SQLite file, or a new PostgreSQL
database when ``DANTOC_TEST_ENGINE=postgresql``), once per session (``demo_database``); each
server gets a copy of it of its own (SQLite's backup API, or ``CREATE DATABASE … TEMPLATE``)
and runs ``gunicorn -c gunicorn.conf.py`` with two workers. Chromium is Debian's package,
driven by Playwright; browsers are never downloaded.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import forks
from tests.conftest import ARGON2_TEST_COST, ENGINE, _pg_admin_engine, _pg_url

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: A small phone, the village head's screen.
PHONE = {"width": 360, "height": 640}
START_TIMEOUT = 60


@dataclass
class LiveServer:
    url: str
    #: (username, password) pairs printed by ``flask seed-demo``
    sign_ins: set[tuple[str, str]]
    log: Path
    #: the server's environment (database URL …), for a ``flask jobs work`` beside it
    env: dict = field(default_factory=dict)

    def sign_in_for(self, role: str) -> tuple[str, str]:
        """The demo username and password of ``role`` (e.g. ``province_officer``).

        They come from the demo module's table and must be among the sign-ins that
        ``flask seed-demo`` printed, so a demo that stops creating them fails here.
        """
        from dantoc.demo.accounts import ACCOUNTS

        username, password = ACCOUNTS[role][:2]
        assert (username, password) in self.sign_ins, (
            f"seed-demo did not print the sign-in of {role}: {self.sign_ins}")
        return username, password


def parse_sign_ins(output: str) -> set[tuple[str, str]]:
    """Read the "Demo sign-ins" table printed by ``flask seed-demo``: role label (may contain
    spaces), username, password; returns the (username, password) pairs."""
    _before, header, table = output.partition("Demo sign-ins")
    pairs = set()
    for line in table.splitlines()[1:] if header else []:
        words = line.split()
        if len(words) >= 3:
            pairs.add((words[-2], words[-1]))
    return pairs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env: dict, *args: str) -> str:
    """Run one ``flask --app wsgi`` command; fail the session with its output if it fails."""
    done = forks.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                     env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        pytest.fail(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_until_healthy(url: str, server: forks.Forked | subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer /healthz in {START_TIMEOUT} s:\n"
                f"{log.read_text()[-3000:]}")


@dataclass
class _Database:
    """A database for a server: a SQLite file, or a PostgreSQL database; empty, or a copy of
    ``template`` (a :class:`DemoDatabase`)."""

    directory: Path
    name: str = field(default_factory=lambda: f"dantoc_browser_{uuid.uuid4().hex[:8]}")

    def create(self, template: DemoDatabase | None = None) -> str:
        if ENGINE != "postgresql":
            path = self.directory / "dantoc.sqlite3"
            if template is not None:
                with (sqlite3.connect(template.database.directory / "dantoc.sqlite3") as source,
                      sqlite3.connect(path) as copy):
                    source.backup(copy)
            return f"sqlite:///{path}"
        like = f' TEMPLATE "{template.database.name}"' if template is not None else ""
        with _pg_admin_engine().connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{self.name}"{like}')
        return _pg_url(self.name)

    def drop(self) -> None:
        if ENGINE == "postgresql":
            with _pg_admin_engine().connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class DemoDatabase:
    """The migrated database with reference and demo data, and the sign-ins ``seed-demo``
    printed."""

    database: _Database
    sign_ins: set[tuple[str, str]]


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory):
    """``flask db upgrade``, ``seed-reference`` and ``seed-demo`` on a new database, once per
    session: the servers below each run on a copy of it."""
    database = _Database(tmp_path_factory.mktemp("demo"))
    env = _server_env(database.create(), _free_port())
    try:
        _flask(env, "db", "upgrade")
        _flask(env, "seed-reference")
        yield DemoDatabase(database, parse_sign_ins(_flask(env, "seed-demo", "--no-history")))
    finally:
        database.drop()


def _server_env(database_url: str, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANTOC_", "GUNICORN_"))}
    env.update(DANTOC_ENV="development", DANTOC_DATABASE_URL=database_url,
               DANTOC_SECRET_KEY=secrets.token_hex(32), GUNICORN_BIND=f"127.0.0.1:{port}",
               GUNICORN_WORKERS="2", GUNICORN_LOGLEVEL="warning",
               **{f"DANTOC_{key}": str(value)
                  for key, value in ARGON2_TEST_COST.as_config().items()})
    return env


@contextmanager
def _gunicorn(env: dict, port: int, log: Path):
    """gunicorn serving ``env``'s database until the block ends; yields its base URL."""
    with log.open("w") as stream:
        server = forks.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket",
             "wsgi:app"],
            cwd=ROOT, env=env, stdout=stream, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, demo_database):
    """gunicorn (2 workers) over a copy of the demo database."""
    directory = tmp_path_factory.mktemp("live")
    database = _Database(directory)
    port = _free_port()
    env = _server_env(database.create(demo_database), port)
    log = directory / "gunicorn.log"
    try:
        with _gunicorn(env, port, log) as url:
            yield LiveServer(url, demo_database.sign_ins, log, env)
    finally:
        database.drop()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless; a missing chromium fails the test (it is not skipped)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is missing: install it with `sudo apt install chromium` "
                    "(never `playwright install`).", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


#: Every stylesheet of the page has loaded (a link's ``sheet`` is null until then).
STYLESHEETS_LOADED = "[...document.querySelectorAll('link[rel=stylesheet]')].every(l => l.sheet)"


def wait_until(page, expression: str, arg=None, timeout: float = 30.0):
    """Evaluate ``expression`` (a JavaScript expression or function, given ``arg``) in the page
    until it is truthy; return that value, or fail after ``timeout`` seconds.

    Not Playwright's ``wait_for_function``: when its first check is false it polls with a
    predicate built by ``new Function`` inside the page, which the app's Content Security
    Policy (no ``'unsafe-eval'``) refuses, so it failed exactly when a page was slow (under
    load in CI). ``page.evaluate`` goes through the DevTools protocol, which the policy does
    not restrict. A navigation under way (the context destroyed) counts as not yet."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(expression, arg)
        except PlaywrightError as error:
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"not true after {timeout} s: {expression}"
        page.wait_for_timeout(100)


class WatchedPage:
    """A page in a fresh phone-sized context that records console errors and failed requests."""

    def __init__(self, context, base_url: str):
        self.context = context
        self.page = context.new_page()
        self.base_url = base_url
        self.console_errors: list[str] = []
        self.failed_requests: list[str] = []
        #: requests the browser aborted because their page had already left (not failures)
        self.abandoned: list[str] = []
        self.requests: list = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request))
        self.page.on("requestfailed", self._on_failed)
        self.page.on("response", self._on_response)

    def _on_failed(self, request) -> None:
        """A failed request, unless the browser aborted it because the page that asked for
        it had already left (its ``Referer`` is not the page's address any more): a
        background request such as the outbox's ``/session/state`` that a navigation cuts
        short is the browser's normal behaviour, not a failure (seen in CI under load). An
        aborted request of the page still on screen is kept: that is how the on-behalf
        submit's duplicate send showed."""
        referer = request.headers.get("referer")
        left = (request.failure == "net::ERR_ABORTED" and referer is not None
                and referer != self.page.url)
        failure = f"{request.method} {request.url}: {request.failure}"
        (self.abandoned if left else self.failed_requests).append(failure)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.request.method} {response.url}: "
                                        f"{response.status}")

    def goto(self, path: str):
        return self.page.goto(self.base_url + path, wait_until="load")

    def sign_in(self, username: str, password: str) -> None:
        """Sign in through the password form and wait until the landing page is complete.

        The form is boosted: the URL changes when htmx swaps the landing page in, before its
        last request ends and before the stylesheets the swap adds to the body (officer.css)
        have loaded; a navigation then aborts them (failed requests, seen under load in CI)."""
        from playwright.sync_api import expect

        page = self.page
        self.goto("/accounts/login?password=1")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("main form button[type=submit].primary")
        page.wait_for_url(lambda url: "/accounts/login" not in url)
        expect(page.locator(".htmx-request, .htmx-settling")).to_have_count(0)
        page.wait_for_load_state("load")
        wait_until(page, STYLESHEETS_LOADED)

    def assert_clean(self) -> None:
        """No console error and no failed request so far."""
        assert self.console_errors == []
        assert self.failed_requests == []


@pytest.fixture
def phone(browser, live_server):
    """A fresh 360×640 browser context with a Vietnamese phone's language settings."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True,
                                  is_mobile=True, device_scale_factor=2)
    context.set_default_timeout(15_000)
    yield WatchedPage(context, live_server.url)
    context.close()


# -- Offline PWA (issue #6): a server of its own, the fault proxy, a phone that can be killed --

#: Randomized offline cycles per run (tests/browser/test_offline_cycles.py); more with
#: ``DANTOC_CYCLES``. Each cycle submits at most 3 forms, each to a target of its own.
OFFLINE_CYCLES = int(os.environ.get("DANTOC_CYCLES", "30"))


@pytest.fixture(scope="module")
def offline_server(tmp_path_factory, demo_database):
    """gunicorn (2 workers) on a database of its own with open targets for every cycle."""
    from tests.browser.pwa_server import pwa_server

    with pwa_server(tmp_path_factory.mktemp("offline"), targets=3 * OFFLINE_CYCLES + 30,
                    template=demo_database) as server:
        yield server


@pytest.fixture(scope="module")
def offline_proxy(offline_server):
    """The loopback proxy in front of ``offline_server``: the phone's only way to it."""
    from tests.browser.proxy import Proxy

    with Proxy(offline_server.port) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def targets(offline_server):
    """The open form targets of the module's ``offline_server``, each handed out once."""
    from tests.browser.offline import Targets

    return Targets(offline_server)


@pytest.fixture
def offline_phone(browser, offline_server, offline_proxy, tmp_path):
    """A launched phone on a new persistent profile, online, through the proxy. (``browser``
    lends its Playwright driver: one sync Playwright per process; its own chromium idles.)"""
    from tests.browser.chromium import Chromium
    from tests.browser.offline import Phone

    chromium = Chromium(browser.browser_type, tmp_path / "profile", tmp_path / "chromium.log")
    offline_proxy.set_mode("pass")
    phone = Phone(chromium, offline_proxy, offline_server)
    phone.launch()
    yield phone
    phone.close()
    offline_proxy.set_mode("pass")


# -- Review and unit reports (issue #5): a server of its own, a second village head --------

#: The second village head of the demo commune 03388 (its second village), seeded by
#: ``review_server`` so that a commune total adds up two approved villages.
REVIEW_SECOND_HEAD = ("demo-thon-b02", "demo-truongban-b02-2026", "Trưởng bản thứ hai (mẫu)")

#: Seeds one more person (argv: username, password, full name[, role]) and prints the demo
#: commune's ids; a village head goes to the second village, an officer to the commune.
SEED_PERSON = """
import json, sys
import sqlalchemy as sa
from dantoc import create_app
from dantoc.extensions import db
app = create_app()
with app.app_context():
    from dantoc.accounts import services as accounts
    from dantoc.catalogs.models import AdminUnit
    from dantoc.demo.accounts import DEMO_COMMUNE
    from dantoc.demo.units import REFORM_DATE
    def unit(code):
        return db.session.scalar(sa.select(AdminUnit).where(
            AdminUnit.code == code, AdminUnit.valid_from <= REFORM_DATE,
            sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= REFORM_DATE)))
    commune = unit(DEMO_COMMUNE)
    villages = [unit(f"{DEMO_COMMUNE}-B0{n}") for n in (1, 2, 3)]
    username, password, full_name = sys.argv[1:4]
    role = sys.argv[4] if len(sys.argv) > 4 else "village_head"  # an officer: of the commune
    accounts.create_user(username, full_name, role, password=password,
                         unit_id=villages[1].id if role == "village_head" else commune.id)
    db.session.commit()
    print(json.dumps({"province": commune.parent_id, "commune": commune.id,
                      "villages": [[v.id, v.name] for v in villages]}))
"""


@dataclass
class ReviewServer(LiveServer):
    """The review journey's server: its database URL, the demo commune's unit ids."""

    database_url: str = ""
    province_id: int = 0
    commune_id: int = 0
    #: (unit id, name) of the commune's three villages; the 1st is the demo village head's,
    #: the 2nd is :data:`REVIEW_SECOND_HEAD`'s, the 3rd has no village head.
    villages: list[tuple[int, str]] = field(default_factory=list)

    def rows(self, sql: str, **params) -> list[tuple]:
        """Read the server's database (a fresh connection each time)."""
        import sqlalchemy as sa

        from dantoc.config import normalise_database_url

        engine = sa.create_engine(normalise_database_url(self.database_url),
                                  poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                return [tuple(r) for r in connection.execute(sa.text(sql), params)]
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def review_server(tmp_path_factory, demo_database):
    """gunicorn (2 workers) like ``live_server`` but on a database of its own (the review
    tests submit, return and approve the demo forms), with a second village head."""
    import json

    directory = tmp_path_factory.mktemp("review")
    database = _Database(directory)
    port = _free_port()
    database_url = database.create(demo_database)
    env = _server_env(database_url, port)
    log = directory / "gunicorn.log"
    sign_ins = demo_database.sign_ins
    try:
        done = forks.run([sys.executable, "-c", SEED_PERSON, *REVIEW_SECOND_HEAD],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
        assert done.returncode == 0, f"review seed failed:\n{done.stdout}\n{done.stderr}"
        seeded = json.loads(done.stdout.strip().splitlines()[-1])
        with _gunicorn(env, port, log) as url:
            yield ReviewServer(url, sign_ins, log, env=env, database_url=database_url,
                               province_id=seeded["province"], commune_id=seeded["commune"],
                               villages=[tuple(v) for v in seeded["villages"]])
    finally:
        database.drop()

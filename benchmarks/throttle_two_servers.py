#!/usr/bin/env python
"""Sign-in guesses evaluated in 15 minutes against two app servers with worker recycling.

Not a test. Builds a fresh PostgreSQL database (migrations, reference data, one officer),
starts two gunicorn instances on two ports over it (2 workers each, ``--max-requests 20`` so
workers are recycled all the time), with the throttle's store in the database or in Redis,
and then, as an attacker would, from one address and with a new browser (cookie jar) each
time:

1. **per account**: wrong passwords for the one account, alternating between the servers,
   with ``GET /healthz`` bursts in between that recycle the workers;
2. **per address**: one wrong password each for many usernames (a spray).

A guess is *evaluated* when the answer is the sign-in form with its error (200), not a 429.
It also checks what two servers must share: a session made on one is accepted by the other,
and a sign-out on one ends it on the other. Prints one line per store, in Markdown, for
docs/security.md.

Usage: ``.venv/bin/python benchmarks/throttle_two_servers.py [--guesses 40] [--spray 120]``
(``DANTOC_BENCH_DATABASE_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``, names
the server; ``--redis`` the Redis URL).
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (a throwaway database)
CHEAP_ARGON2 = {"DANTOC_ARGON2_MEMORY_KIB": "8", "DANTOC_ARGON2_TIME_COST": "1",
                "DANTOC_ARGON2_PARALLELISM": "1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """A cookie jar and a CSRF token: one browser."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def open(self, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, body, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def sign_in(self, base: str, username: str, password: str) -> int:
        _status, page = self.open(base + "/accounts/login?password=1")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        return self.open(base + "/accounts/login", {
            "username": username, "password": password,
            "csrf_token": token.group(1) if token else ""})[0]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def build_database(admin_url: str) -> str:
    from dantoc import create_app
    from dantoc.catalogs.reference import load_reference
    from dantoc.config import normalise_database_url
    from dantoc.extensions import db

    name = f"dantoc_bench_throttle_{os.getpid()}"
    admin = sa.create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = sa.make_url(normalise_database_url(admin_url)).set(database=name).render_as_string(
        hide_password=False)
    os.environ.update(CHEAP_ARGON2)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ENV": "testing",
                      "SECRET_KEY": "bench"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "migrations"))
        load_reference()
        db.engine.dispose()
    seed_officer(url)
    return url


def seed_officer(url: str) -> None:
    """The roles and the one officer whose account the guesses aim at, in a migrated
    database (tests/test_two_servers.py uses it on the test's own database)."""
    from dantoc import create_app
    from dantoc.accounts import services as accounts
    from dantoc.accounts.passwords import hash_password
    from dantoc.extensions import db

    # The cheap hash as the app's configuration, not the environment: a test imports this
    # module, and its process must not leak the setting into other apps.
    cheap = {key.removeprefix("DANTOC_"): int(value) for key, value in CHEAP_ARGON2.items()}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ENV": "testing", "SECRET_KEY": "bench",
                      **cheap})
    with app.app_context():
        accounts.seed_roles()
        user = accounts.create_user("officer-bench", "Cán bộ thử", "province_officer")
        user.password_hash = hash_password(PASSWORD)
        db.session.commit()
        db.engine.dispose()


def start(url: str, port: int, store: str, secret: str, popen=subprocess.Popen):
    """gunicorn on ``port``; ``popen`` starts it (``subprocess.Popen``, or the tests' fork
    server: tests/forks.py)."""
    env = os.environ | CHEAP_ARGON2 | {
        "DANTOC_DATABASE_URL": url, "DANTOC_SECRET_KEY": secret, "DANTOC_ENV": "testing",
        "DANTOC_RATELIMIT_STORAGE_URI": store, "GUNICORN_LOGLEVEL": "warning",
        "DANTOC_RATELIMIT_KEY_PREFIX": f"dantoc-bench:{secret}:"}
    process = popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--max-requests", "20",
         "--max-requests-jitter", "0", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn on {port} did not start: {process.stderr.read().decode()}")


def recycle(bases: list[str], requests: int = 45) -> None:
    for i in range(requests):
        # a worker restarting under load may drop one: the recycling happened anyway
        with contextlib.suppress(OSError):
            urllib.request.urlopen(bases[i % 2] + "/healthz", timeout=60).read()  # noqa: S310


def run(url: str, store: str, guesses: int, spray: int, popen=subprocess.Popen) -> dict:
    secret = secrets.token_hex(8)
    ports = [free_port(), free_port()]
    servers = [start(url, port, store, secret, popen) for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        # Two servers share sessions and their revocation.
        owner = Browser()
        signed_in = owner.sign_in(bases[0], "officer-bench", PASSWORD) == 303
        shared = owner.open(bases[1] + "/accounts/me")[0] == 200
        _status, page = owner.open(bases[1] + "/accounts/me")
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
        owner.opener.addheaders = [("X-CSRFToken", token.group(1) if token else "")]
        owner.open(bases[1] + "/accounts/logout", {})
        owner.opener.addheaders = []
        revoked = owner.open(bases[0] + "/accounts/me")[0] in (302, 303)

        account = {200: 0, 429: 0}
        for i in range(guesses):
            status = Browser().sign_in(bases[i % 2], "officer-bench", f"guess {i}")
            account[status] = account.get(status, 0) + 1
            if i % 5 == 4:
                recycle(bases)
        address = {200: 0, 429: 0}
        for i in range(spray):
            status = Browser().sign_in(bases[i % 2], f"nobody-{i}", "password1")
            address[status] = address.get(status, 0) + 1
            if i % 10 == 9:
                recycle(bases)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
            server.stderr.close()
    return {"store": store, "session_shared": signed_in and shared, "revoked": revoked,
            "account": account, "address": address}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guesses", type=int, default=40)
    parser.add_argument("--spray", type=int, default=120)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--stores", default="database,redis", help="database, redis or both")
    args = parser.parse_args()
    admin_url = os.environ.get("DANTOC_BENCH_DATABASE_URL",
                               "postgresql://postgres@127.0.0.1:5432/test")
    url = build_database(admin_url)
    print("| store | session made on A works on B | sign-out on B ends it on A | "
          f"guesses on one account evaluated (of {args.guesses}) | "
          f"spray from one address evaluated (of {args.spray}) |")
    print("| --- | --- | --- | --- | --- |")
    try:
        stores = {"database": "database", "redis": args.redis}
        for store in (stores[name] for name in args.stores.split(",")):
            result = run(url, store, args.guesses, args.spray)
            print(f"| {store} | {result['session_shared']} | {result['revoked']} | "
                  f"{result['account'].get(200, 0)} (429: {result['account'].get(429, 0)}) | "
                  f"{result['address'].get(200, 0)} (429: {result['address'].get(429, 0)}) |",
                  flush=True)
    finally:
        name = sa.make_url(url).database
        admin = sa.create_engine(sa.make_url(url).set(database="postgres"),
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()

"""The server of the offline tests: gunicorn (2 workers) on its own database, whose workers
the tests kill and whose service worker they "upgrade".

Built like ``live_server`` (migrations, reference and demo data), plus
:mod:`tests.browser.pwa_seed` (open monthly targets for the demo village head and a second
village head). ``DANTOC_SW_VERSION_FILE`` names a file the server reads on every ``/sw.js``:
writing a new value into it ships a new service worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from dantoc.config import normalise_database_url
from tests import forks
from tests.browser.conftest import (
    ROOT,
    DemoDatabase,
    _Database,
    _flask,
    _free_port,
    _server_env,
    _wait_until_healthy,
    parse_sign_ins,
)
from tests.conftest import ENGINE


class PwaServer:
    """One gunicorn master on one database; may be stopped and started again."""

    def __init__(self, directory: Path, env: dict, port: int, seeded: dict,
                 sign_ins: set[tuple[str, str]]):
        self.directory, self.env, self.port = directory, env, port
        self.seeded, self.sign_ins = seeded, sign_ins
        self.url = f"http://127.0.0.1:{port}"
        self.log = directory / "gunicorn.log"
        self.version_file = Path(env["DANTOC_SW_VERSION_FILE"])
        self.process: forks.Forked | subprocess.Popen | None = None
        self.engine = sa.create_engine(normalise_database_url(env["DANTOC_DATABASE_URL"]),
                                       poolclass=sa.pool.NullPool)
        self.killed_workers: list[int] = []

    def sign_in_for(self, role: str) -> tuple[str, str]:
        """The demo sign-in of ``role``, which ``seed-demo`` must have printed."""
        from dantoc.demo.accounts import ACCOUNTS

        username, password = ACCOUNTS[role][:2]
        assert (username, password) in self.sign_ins, f"seed-demo did not create {role}"
        return username, password

    # -- processes ------------------------------------------------------------------------

    def start(self, **extra_env: str) -> None:
        env = {**self.env, **extra_env}
        with self.log.open("a") as stream:
            self.process = forks.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                 "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=env, stdout=stream, stderr=subprocess.STDOUT)
        _wait_until_healthy(self.url, self.process, self.log)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's children."""
        master = self.process.pid
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == master:  # field 4 of /proc/PID/stat: the parent
                children.append(int(entry.name))
        return sorted(children)

    def worker_serving(self, client_port: int) -> int | None:
        """The worker holding the connection from local port ``client_port`` (the proxy's
        upstream socket), or None while no worker has accepted it."""
        inodes = _socket_inodes(self.port, client_port)
        for pid in self.worker_pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return pid
        return None

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker (only a child of this master); the master starts another."""
        assert pid in self.worker_pids(), f"{pid} is not a worker of this server"
        os.kill(pid, signal.SIGKILL)
        self.killed_workers.append(pid)

    def wait_for_workers(self, count: int = 2, timeout: float = 30) -> None:
        """Until the master has ``count`` workers again (after a kill)."""
        deadline = time.monotonic() + timeout
        while len([p for p in self.worker_pids() if p not in self.killed_workers]) < count:
            assert time.monotonic() < deadline, "gunicorn did not replace a killed worker"
            time.sleep(0.1)

    # -- the service worker -----------------------------------------------------------------

    def upgrade_service_worker(self) -> str:
        """Ship a new service worker version (the server reads the file on every request)."""
        value = uuid.uuid4().hex
        self.version_file.write_text(value)
        return value

    # -- the database -----------------------------------------------------------------------

    def rows(self, sql: str, **params) -> list[tuple]:
        with self.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql), params)]


def _socket_inodes(server_port: int, client_port: int) -> set[str]:
    """Inodes of the server side of TCP connections 127.0.0.1:server ← 127.0.0.1:client."""
    wanted = (f"{server_port:04X}", f"{client_port:04X}")
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            if (local, remote) == wanted:
                inodes.add(fields[9])
    return inodes


def _seed(env: dict, targets: int) -> dict:
    done = forks.run([sys.executable, "-m", "tests.browser.pwa_seed", str(targets)],
                     cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                     check=False)
    assert done.returncode == 0, f"pwa_seed failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def pwa_server(directory: Path, targets: int, template: DemoDatabase | None = None,
               **extra_env: str) -> Iterator[PwaServer]:
    """A running :class:`PwaServer` with ``targets`` open targets on a copy of ``template``
    (the session's ``demo_database``), or on a database built here when there is none;
    dropped afterwards."""
    database = _Database(directory)
    port = _free_port()
    version_file = directory / "sw-version.txt"
    version_file.write_text("initial")
    env = _server_env(database.create(template), port)
    env.update(DANTOC_SW_VERSION_FILE=str(version_file), **extra_env)
    server = None
    try:
        if template is None:
            _flask(env, "db", "upgrade")
            _flask(env, "seed-reference")
            sign_ins = parse_sign_ins(_flask(env, "seed-demo", "--no-history"))
        else:
            sign_ins = template.sign_ins
        server = PwaServer(directory, env, port, _seed(env, targets), sign_ins)
        server.start()
        yield server
    finally:
        if server is not None:
            server.stop()
            server.engine.dispose()
        database.drop()


def is_sqlite() -> bool:
    return ENGINE != "postgresql"

"""Throughput of the village head's form GET and submit, on SQLite and PostgreSQL, with
gunicorn as ``scripts/run`` sets it (``gunicorn.conf.py``, 3 sync workers, access log on).

    .venv/bin/python benchmarks/throughput.py [--engines sqlite,postgresql]
        [--concurrency 1,2,4,8] [--duration 10] [--villages 500] [--reuse]
        [--accept-encoding "br, gzip"]

For each engine it builds its own database (demo data plus ``flask demo scale --villages N
--heads --empty``: N villages with their heads, 12 open monthly periods), starts gunicorn,
and for each kind and concurrency sends requests for ``--duration`` seconds from that many
client threads, each request a new connection (sync workers close it). A form GET opens an
unsubmitted form; a submit is a real first submit (new UUID, htmx, the receipt fragment) of
a (village, period) pair never submitted before. ``--reuse`` keeps the prepared SQLite
database in the temporary directory and starts each later run from a copy of it (repeated
runs for medians without two minutes of preparation each). Requests ask for no compression
(``Accept-Encoding: identity``, as ``http.client`` does) unless ``--accept-encoding`` says
otherwise: a phone sends ``gzip, deflate, br``, and the server then compresses each page.

Each village head's client keeps the session cookie the server sends back, as a phone's
browser does: the server renews it when it changes the session (the last-seen time once a
minute, a sign-in made under another User-Agent marked not fresh), and a client that sent
the old one again would make it sign and send a new cookie on every request.

Printed per row: requests, success share, requests/s, p50 and p95 latency, and the server's
**CPU ms per request**: user + system time of the gunicorn master and workers (including
workers that exited and were reaped) from /proc, over the requests of the step. The load
generator runs on the same machine; its CPU is not counted, but it competes for the cores,
so requests/s is a floor for a dedicated server. The machine's load average is printed
before and after. A failed request is counted with its status (0: no connection); if
gunicorn exits, the run stops there and prints the end of its error log.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import support

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dantoc_bench"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # fields from "state" (field 3) on


def server_cpu(master: int) -> float:
    """Seconds of CPU used by the master, its live workers and its reaped workers."""
    fields = _stat(master)
    total = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = _stat(int(entry.name))
            if child is not None and int(child[1]) == master:
                total += int(child[11]) + int(child[12])
    return total / TICKS


def wait_for(port: int) -> None:
    """Until gunicorn listens on ``port``, then a second for every worker to boot."""
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    time.sleep(1.0)


@dataclass
class Server:
    url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log: Path = field(default_factory=lambda: Path(tempfile.mkstemp(prefix="dantoc-tp-",
                                                                   suffix=".log")[1]))

    def __enter__(self) -> Server:
        env = support.environment(self.url)
        env.update(GUNICORN_BIND=f"127.0.0.1:{self.port}",
                   GUNICORN_WORKERS=os.environ.get("GUNICORN_WORKERS", "3"))
        self.process = subprocess.Popen(  # as scripts/run: gunicorn -c gunicorn.conf.py
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=support.ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"))  # gunicorn's error log (access log: stdout, dropped)
        wait_for(self.port)
        return self

    def alive(self) -> bool:
        return self.process.poll() is None

    def __exit__(self, *_exc) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


@dataclass
class Step:
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


def _request(port: int, method: str, path: str, headers: dict, body: bytes | None):
    """(status, the Set-Cookie headers of the answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.headers.get_all("Set-Cookie") or []
    finally:
        conn.close()


def run_step(port: int, make, concurrency: int, duration: float) -> tuple[Step, float]:
    """Send requests from ``concurrency`` threads for ``duration`` s; (results, wall s)."""
    step, lock = Step(), threading.Lock()
    stop = time.perf_counter() + duration

    def client() -> None:
        while time.perf_counter() < stop:
            with lock:
                request = make()
            if request is None:
                return
            method, path, headers, body, expected, keep = request
            started = time.perf_counter()
            try:
                status, cookies = _request(port, method, path, headers, body)
            except OSError:
                status, cookies = 0, []
            elapsed = time.perf_counter() - started
            with lock:
                for cookie in cookies:
                    keep(cookie)
                step.statuses[status] = step.statuses.get(status, 0) + 1
                if status == expected:
                    step.latencies.append(elapsed)
                else:
                    step.failures += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return step, time.perf_counter() - started


def warm_up(port: int, makes, seconds: float = 2.0) -> None:
    """Send every kind of request, before any is measured, from one client more than there
    are workers: every worker is then busy at once and serves each kind (its first form and
    receipt build the markup it keeps), so that the first measured step is not charged
    with it. A worker recycled by ``max_requests`` later starts cold again, in production
    too: that cost is part of the steady state measured."""
    clients = int(os.environ.get("GUNICORN_WORKERS", "3")) + 1
    for make in makes:
        run_step(port, make, clients, seconds)


def makers(target: support.Target, encoding: str = "identity"):
    """Request factories: form GET on the newest period, submits on the others."""
    cookie = target.cookie_name

    def get_pairs():
        return itertools.cycle(target.heads)

    heads = get_pairs()
    newest = target.periods[-1]

    def form_get():
        head = next(heads)
        return ("GET", support.form_path(head.unit_id, newest),
                {"Cookie": f"{cookie}={head.cookie}", "Accept-Encoding": encoding}, None, 200,
                partial(support.keep_cookie, target, head))

    fresh = itertools.product(target.periods[:-1], target.heads)

    def submit():
        pair = next(fresh, None)
        if pair is None:
            return None
        period, head = pair
        body = urllib.parse.urlencode(support.body(target, head)).encode()
        return ("POST", support.form_path(head.unit_id, period),
                {"Cookie": f"{cookie}={head.cookie}", "HX-Request": "true",
                 "Accept-Encoding": encoding,
                 "Content-Type": "application/x-www-form-urlencoded"}, body, 200,
                partial(support.keep_cookie, target, head))

    return {"form GET": form_get, "submit": submit}


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(engine: str, args) -> list[tuple]:
    if engine == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="dantoc-tp-"), "bench.sqlite3")
        url = f"sqlite:///{path}"
        kept = Path(tempfile.gettempdir(), f"dantoc-tp-{args.villages}-villages.sqlite3")
        if args.reuse and kept.exists():
            shutil.copyfile(kept, path)
        else:
            support.prepare(url, args.villages)
            if args.reuse:
                shutil.copyfile(path, kept)
    else:
        url = args.pg_url
        support.reset_postgresql(url)
        support.prepare(url, args.villages)
    target = support.targets(url)
    rows = []
    with Server(url) as server:
        master = server.process.pid
        kinds = makers(target, args.accept_encoding)
        warm_up(server.port, kinds.values())
        for kind, make in kinds.items():
            for concurrency in args.concurrency:
                before = server_cpu(master)
                step, wall = run_step(server.port, make, concurrency, args.duration)
                cpu = server_cpu(master) - before
                done = len(step.latencies) + step.failures
                ok = len(step.latencies)
                row = (engine, kind, concurrency, done, 100 * ok / done if done else 0,
                       ok / wall, 1000 * percentile(step.latencies, 0.5),
                       1000 * percentile(step.latencies, 0.95),
                       1000 * cpu / done if done else float("nan"))
                rows.append(row)
                print("{:<10} {:<8} c={:<3} n={:<6} ok={:6.2f}% {:7.1f}/s p50={:6.1f} ms "
                      "p95={:6.1f} ms CPU={:5.2f} ms/req".format(*row),
                      "" if not step.failures else f"statuses={step.statuses}", flush=True)
                if not server.alive():  # say so, with gunicorn's last words, and stop
                    tail = server.log.read_text(errors="replace").splitlines()[-15:]
                    print(f"gunicorn exited ({server.process.returncode}); {server.log}:",
                          *tail, sep="\n  ", flush=True)
                    return rows
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--concurrency", default="1,2,4,8")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--villages", type=int, default=500)
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--reuse", action="store_true",
                        help="SQLite: start from a copy of the database prepared by a "
                             "previous --reuse run with as many villages")
    parser.add_argument("--accept-encoding", default="identity",
                        help='what the client accepts, e.g. "gzip, deflate, br" as a phone')
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    rows = []
    for engine in args.engines.split(","):
        rows += measure(engine, args)
    print(f"load average after: {os.getloadavg()}")
    print("\n| engine | request | clients | requests | ok | req/s | p50 ms | p95 ms | "
          "CPU ms/req |\n|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| {} | {} | {} | {} | {:.1f} % | {:.0f} | {:.1f} | {:.1f} | {:.2f} |"
              .format(*row))
    best = {}
    for row in rows:
        best.setdefault((row[0], row[1]), []).append(row[8])
    for (engine, kind), cpus in best.items():
        print(f"{engine} {kind}: median CPU {statistics.median(cpus):.2f} ms/request")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Lighthouse mobile scores of the public pages: the home page, a document, a statistics page.

Not a test. Builds a fresh SQLite database in a temporary folder (migrations, reference
catalogs, demo data, then :mod:`tests.browser.stats_seed`: a published 2026-Q4 release of two
communes), serves it with gunicorn on loopback, and runs Lighthouse (npm, pinned
:data:`LIGHTHOUSE`) with Debian's Chromium and the flags of the CI machines (no browser
download, no outside network from Chromium) on each page, after two warm-up requests: the
default mobile form factor and simulated Slow 4G throttling, the four categories, ``--runs``
times (the median is reported, as Lighthouse advises). Prints the scores as Markdown for
``docs/benchmarks.md`` and keeps each JSON report in ``--out``.

Usage: ``.venv/bin/python benchmarks/lighthouse.py [--out /tmp/lighthouse] [--port N]
[--runs 3]`` (a free port by default; ``CHROME_PATH`` defaults to /usr/bin/chromium; the
first run fetches Lighthouse with ``npx --yes``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = "lighthouse@12.8.2"  # 13.x needs Node ≥ 22.19; Debian's is 20
CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update --disable-sync")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def _env(database: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANTOC_", "GUNICORN_"))}
    env.update(DANTOC_ENV="development", DANTOC_DATABASE_URL=f"sqlite:///{database}",
               DANTOC_SECRET_KEY=secrets.token_hex(32), GUNICORN_BIND=f"127.0.0.1:{port}",
               GUNICORN_WORKERS="2", GUNICORN_LOGLEVEL="warning",
               PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}")
    return env


def _flask(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(url: str, server: subprocess.Popen) -> None:
    """Until our gunicorn answers (another server on the port would be scored instead:
    it is checked that ours is still running once it answers)."""
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit("gunicorn stopped (is the port taken?)")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):  # noqa: S310 (loopback)
                time.sleep(1)
                if server.poll() is not None:
                    raise SystemExit("gunicorn stopped (is the port taken?)")
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer")


def lighthouse(url: str, report: Path, attempts: int = 3) -> dict[str, int]:
    """The four scores of one run; a run that Lighthouse itself reports as broken (a
    ``runtimeError`` such as NO_NAVSTART: "Please run Lighthouse again") is run again."""
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    for attempt in range(1, attempts + 1):
        subprocess.run(["npx", "--yes", LIGHTHOUSE, url, "--quiet", "--output=json",
                        f"--output-path={report}", f"--chrome-flags={CHROME_FLAGS}",
                        f"--only-categories={','.join(CATEGORIES)}"],
                       env=env, check=False, timeout=600)
        data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
        error = data.get("runtimeError") if data else {"code": "no report"}
        if not error:
            return {name: round(data["categories"][name]["score"] * 100)
                    for name in CATEGORIES}
        print(f"  {url}: {error['code']} (attempt {attempt} of {attempts})", flush=True)
    raise SystemExit(f"Lighthouse failed {attempts} times on {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "lighthouse"))
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        port = args.port or _free_port()
        env = _env(Path(folder) / "site.sqlite3", port)
        for command in (("db", "upgrade"), ("seed-reference",), ("seed-demo",)):
            _flask(env, *command)
        seeded = json.loads(subprocess.run(
            [sys.executable, "-m", "tests.browser.stats_seed"], cwd=ROOT, env=env,
            capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        release = f"/thong-ke/{seeded['form']}/{seeded['period']}/"
        pages = {"home": "/", "document": "/van-ban/quyet-dinh-414-qd-ttg",
                 "statistics (release)": release,
                 "statistics (commune)": f"{release}xa/{seeded['commune']}"}
        with (Path(folder) / "gunicorn.log").open("w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                 "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base, server)
            rows = []
            for name, path in pages.items():
                for _ in range(2):  # warm-up: templates compiled, caches filled
                    urllib.request.urlopen(base + path, timeout=30).read()  # noqa: S310
                stem = name.replace(" (", "-").rstrip(")")
                runs = [lighthouse(base + path, out / f"{stem}-{i}.json")
                        for i in range(args.runs)]
                rows.append((name, path, {c: statistics.median(r[c] for r in runs)
                                          for c in CATEGORIES}, runs))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"\nMedian of {args.runs} runs (each run's performance score in brackets):\n")
    print("| Page | URL | " + " | ".join(CATEGORIES) + " |")
    print("|---|---|" + "---|" * len(CATEGORIES))
    for name, path, scores, runs in rows:
        each = ", ".join(str(r["performance"]) for r in runs)
        cells = [f"{scores[c]:g}" + (f" ({each})" if c == "performance" else "")
                 for c in CATEGORIES]
        print(f"| {name} | `{path}` | " + " | ".join(cells) + " |")
    print(f"\nload average {os.getloadavg()[0]:.1f}; reports in {out}")


if __name__ == "__main__":
    main()

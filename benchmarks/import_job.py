#!/usr/bin/env python
"""A 20,000-row catalog import as a background job: progress, a worker killed halfway,
the rerun.

Not a test. Builds a fresh database (SQLite by default, or ``--database-url``) through the
migrations with the reference catalogs, queues the import of ``--rows`` villages (units,
CSV) as the catalog import page would, starts ``flask jobs work`` and prints the progress
the job page would show every few seconds. With ``--kill-at 0.5`` the worker is SIGKILLed
once half the rows are written (the rows so far are in its open transaction only), the
script checks that no unit of the file exists, starts a second worker — which takes the job
over when the dead one's lease (``--lease`` s) has run out — and times the rerun to the end.

Usage: ``.venv/bin/python benchmarks/import_job.py [--rows 20000] [--kill-at 0.5]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def csv_rows(rows: int) -> bytes:
    lines = ["code,name,unit_type,parent_code,valid_from,is_sample"]
    lines += [f"03388-B{i:05d},Tổ dân phố mẫu {i},Tổ dân phố,03388,2025-07-01,yes"
              for i in range(rows)]
    return "\n".join(lines).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--kill-at", type=float, default=0.0)
    parser.add_argument("--lease", type=int, default=15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="dantoc-bench-"))
    url = args.database_url or f"sqlite:///{directory / 'bench.sqlite3'}"
    env = {**os.environ, "DANTOC_ENV": "development", "DANTOC_SECRET_KEY": "bench",
           "DANTOC_DATABASE_URL": url, "DANTOC_JOB_LEASE_SECONDS": str(args.lease),
           "DANTOC_REMINDERS_ENABLED": "0"}
    os.environ.update(env)
    from flask_migrate import upgrade

    from dantoc import create_app
    from dantoc.accounts.services import create_user, seed_roles
    from dantoc.catalogs import jobs as catalog_jobs
    from dantoc.catalogs.reference import load_reference
    from dantoc.extensions import db
    from dantoc.jobs.models import Job
    from dantoc.jobs.queue import progress_of

    app = create_app({"SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": __import__(
        "sqlalchemy").pool.NullPool}})
    with app.app_context():
        upgrade()
        seed_roles()
        load_reference()
        owner = create_user("bench-officer", "Bench officer", "province_officer")
        job = catalog_jobs.start("units", csv_rows(args.rows), "units.csv", owner)
        db.session.commit()
        job_id = job.id
        db.session.remove()

        def state():
            # Read as the job page does (a GET: a deferred transaction on SQLite, which
            # does not wait for the worker's write lock).
            with app.test_request_context("/jobs/", method="GET"):
                job = db.session.get(Job, job_id, populate_existing=True)
                done, total = progress_of(job)
                found = job.state, done, total, job.attempts
                db.session.rollback()
            return found

        def imported() -> int:
            with app.test_request_context("/", method="GET"):
                count = db.session.scalar(__import__("sqlalchemy").text(
                    "SELECT count(*) FROM admin_units WHERE code LIKE '03388-B%'"))
                db.session.rollback()
            return count

        def worker(name: str) -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs",
                                     "work", "--name", name], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        started = time.monotonic()
        first = worker("bench-1")
        killed = False
        while True:
            time.sleep(2)
            current, done, total, attempts = state()
            print(f"{time.monotonic() - started:7.1f} s  {current:<8} {done:>6}/{total:<6} "
                  f"attempt {attempts}", flush=True)
            if args.kill_at and not killed and total and done >= total * args.kill_at:
                first.send_signal(signal.SIGKILL)
                first.wait()
                killed = True
                print(f"killed the worker at {done}/{total}; units of the file in the "
                      f"database: {imported()}", flush=True)
                second_started = time.monotonic()
                first = worker("bench-2")
            if current in ("done", "failed"):
                break
        first.send_signal(signal.SIGTERM)
        first.wait()
        total_time = time.monotonic() - started
        print(f"\nend state {current}, attempts {attempts}, units imported {imported()} "
              f"of {args.rows}; total {total_time:.0f} s"
              + (f", rerun after the kill {time.monotonic() - second_started:.0f} s "
                 f"(including the {args.lease} s lease)" if killed else ""))


if __name__ == "__main__":
    main()

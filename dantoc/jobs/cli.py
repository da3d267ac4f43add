"""``flask jobs work``: the worker. Several may run at once (on one or several machines)."""

from __future__ import annotations

import logging
import signal
import time

import click
from flask.cli import AppGroup

from ..extensions import db

jobs_cli = AppGroup("jobs", help="Background jobs (docs/jobs.md).")


@jobs_cli.command("work")
@click.option("--once", is_flag=True, help="Run what is due now, then stop.")
@click.option("--name", default=None, help="Worker name in the jobs table (host:pid).")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks.")
def work(once: bool, name: str | None, poll: float) -> None:
    """Run queued jobs and send due reminders until stopped (SIGTERM: after the current job)."""
    from . import kinds, queue
    from .ticks import run_ticks

    kinds.load()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    worker = name or queue.worker_name()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_a: stopping.append(True))
    click.echo(f"worker {worker} started")
    while not stopping:
        try:
            busy = queue.work_once(worker)
            busy = run_ticks(worker) or busy
        except Exception:  # a locked database, a lost connection: log, wait, go on
            db.session.rollback()
            logging.getLogger(__name__).exception("worker %s: error, going on", worker)
            busy = False
        db.session.remove()
        if once and not busy:
            break
        if not busy:
            time.sleep(poll)

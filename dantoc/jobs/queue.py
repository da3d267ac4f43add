"""Put work on the queue, claim it with a lease, run it in one transaction, record the end.

Claiming is one conditional UPDATE (``… WHERE id = :id AND (state = 'queued' OR the lease
ran out)``): of several workers racing for a job exactly one sees a row count of 1. The job
function writes through ``db.session`` and never commits; the worker commits its writes
together with ``state = 'done'``, so a job killed halfway (worker crash, power cut) leaves
nothing half-written, and once its lease runs out another worker runs it again from the start.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from .. import clock
from ..extensions import db
from ..i18n.selection import use_locale
from .models import DONE, FAILED, QUEUED, RUNNING, Job

log = logging.getLogger(__name__)

#: kind → function(job, progress) -> result dict (or a :class:`File`). Filled by
#: :func:`register`.
KINDS: dict[str, Callable[[Job, Progress], dict | File]] = {}
#: kind → function(job) that aborts (403) when the signed-in person may no longer have the
#: job's file: the authorization of the export, checked again at download.
DOWNLOADS: dict[str, Callable[[Job], None]] = {}


@dataclass(frozen=True)
class File:
    """What an export job returns: stored in ``jobs.output`` with the ``done`` state, in one
    commit, and downloaded by its owner only (``/jobs/<id>/download``)."""

    body: bytes
    filename: str
    media_type: str


class JobRefused(Exception):
    """The job cannot succeed as asked (bad file …): failed at once, with these errors."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors)
        self.errors = errors


def register(kind: str, *, may_download: Callable[[Job], None] | None = None):
    """Decorator: make ``function`` runnable as jobs of ``kind``; an export also gives the
    check that its file may still be downloaded by the signed-in person."""
    def decorator(function):
        KINDS[kind] = function
        if may_download is not None:
            DOWNLOADS[kind] = may_download
        return function
    return decorator


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease() -> timedelta:
    return timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])


def enqueue(kind: str, title: str, *, owner=None, params: dict | None = None,
            data: bytes | None = None) -> Job:
    """Add a queued job to the current transaction (the caller commits)."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, title=title[:200], owner=owner, params=params or {}, data=data,
              state=QUEUED, run_after=clock.now())
    db.session.add(job)
    db.session.flush()
    return job


def unfinished_same(kind: str, owner, params: dict) -> Job | None:
    """The owner's job of ``kind`` with these very ``params`` that has not finished (a second
    click on "prepare the file" shows the first job instead of starting another)."""
    candidates = db.session.scalars(sa.select(Job).where(
        Job.kind == kind, Job.owner_id == owner.id, Job.state.in_((QUEUED, RUNNING)))
        .order_by(Job.id.desc()).limit(20))
    return next((job for job in candidates if job.params == params), None)


def forget_old_files(now=None) -> int:
    """Drop the files of exports finished more than ``EXPORT_KEEP_DAYS`` days ago (the job
    stays in its owner's list, without its file); the number of files dropped."""
    now = now or clock.now()
    keep = timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
    dropped = db.session.execute(
        sa.update(Job).where(Job.kind.in_(sorted(DOWNLOADS)), Job.state == DONE,
                             Job.finished_at < now - keep, Job.output.is_not(None))
        .values(output=None).execution_options(synchronize_session=False))
    db.session.commit()
    return dropped.rowcount


def _claimable(now):
    return sa.or_(sa.and_(Job.state == QUEUED, Job.run_after <= now),
                  sa.and_(Job.state == RUNNING, Job.lease_until < now))


def claim(worker: str) -> Job | None:
    """The next due job, now leased to ``worker`` (committed), or None."""
    for _attempt in range(5):
        now = clock.now()
        candidate = db.session.scalar(sa.select(Job.id).where(_claimable(now))
                                      .order_by(Job.run_after, Job.id).limit(1))
        if candidate is None:
            db.session.rollback()
            return None
        taken = db.session.execute(
            sa.update(Job).where(Job.id == candidate, _claimable(now)).values(
                state=RUNNING, locked_by=worker, lease_until=now + lease(),
                attempts=Job.attempts + 1, started_at=sa.func.coalesce(Job.started_at, now))
            .execution_options(synchronize_session=False))
        db.session.commit()
        if taken.rowcount == 1:
            return db.session.get(Job, candidate, populate_existing=True)
    return None


@dataclass
class Progress:
    """How far a running job is, told to the person watching without touching the job's
    own transaction: on PostgreSQL through a second connection (which also renews the
    lease), on SQLite — whose single writer is the job itself — through a small file beside
    the database (docs/jobs.md)."""

    job_id: int
    worker: str
    total: int = 0
    done: int = 0
    _last: float = field(default=0.0, repr=False)
    every: float = 1.0

    def __call__(self, done: int, total: int | None = None) -> None:
        import time

        self.done = done
        if total is not None:
            self.total = total
        moment = time.monotonic()
        if moment - self._last < self.every and done != self.total:
            return
        self._last = moment
        publish(self.job_id, self.worker, self.done, self.total)


def _progress_file(job_id: int) -> Path:
    """Beside the SQLite database file, so that two databases never share job numbers."""
    database = db.engine.url.database or ""
    folder = Path(f"{database}-jobs") if database and database != ":memory:" else Path(
        current_app.instance_path) / "jobs"
    return folder / f"{job_id}.json"


def _uses_side_file() -> bool:
    return db.engine.dialect.name == "sqlite"


def publish(job_id: int, worker: str, done: int, total: int) -> None:
    if _uses_side_file():
        path = _progress_file(job_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"done": done, "total": total}))
        temporary.replace(path)
        return
    with db.engine.connect() as connection:
        connection.execute(sa.update(Job).where(Job.id == job_id, Job.locked_by == worker)
                           .values(progress_done=done, progress_total=total,
                                   lease_until=clock.now() + lease()))
        connection.commit()


def progress_of(job: Job) -> tuple[int, int]:
    """(done, total) of ``job``, the side file's figures while it runs on SQLite."""
    if job.state == RUNNING and _uses_side_file():
        try:
            figures = json.loads(_progress_file(job.id).read_text())
            return int(figures["done"]), int(figures["total"])
        except (OSError, ValueError, KeyError):
            pass
    return job.progress_done, job.progress_total


def _end(job_id: int, worker: str, **values: Any) -> bool:
    """Move the job to its end state if ``worker`` still holds it (in the current
    transaction, committed by the caller); False when another worker took it over."""
    ended = db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.locked_by == worker, Job.state == RUNNING)
        .values(locked_by=None, lease_until=None, **values)
        .execution_options(synchronize_session=False))
    return ended.rowcount == 1


def _locale_of(job: Job) -> str:
    return (job.owner.locale if job.owner and job.owner.locale else
            current_app.config.get("BABEL_DEFAULT_LOCALE", "vi"))


def run(job: Job, worker: str) -> str:
    """Run a claimed job to its end; returns the state it ended in (queued: retried)."""
    job_id, attempts, max_attempts = job.id, job.attempts, job.max_attempts
    if attempts > max_attempts:
        return _fail(job_id, worker, [{"message": _stopped_message(job)}])
    function = KINDS.get(job.kind)
    if function is None:
        return _fail(job_id, worker, [{"message": f"unknown job kind {job.kind}"}])
    progress = Progress(job_id, worker)
    try:
        with use_locale(_locale_of(job)):
            result = function(job, progress)
    except JobRefused as refused:
        db.session.rollback()
        return _fail(job_id, worker, refused.errors)
    except Exception:
        db.session.rollback()
        log.exception("job %s (%s) failed on attempt %s", job_id, job.kind, attempts)
        if attempts < max_attempts:
            backoff = timedelta(seconds=30 * 2 ** (attempts - 1))
            _end(job_id, worker, state=QUEUED, run_after=clock.now() + backoff)
            db.session.commit()
            return QUEUED
        return _fail(job_id, worker, [{"message": _stopped_message(job)}])
    output = None
    if isinstance(result, File):
        output, result = result.body, {"file": result.filename,
                                       "media_type": result.media_type,
                                       "size": len(result.body)}
    if not _end(job_id, worker, state=DONE, result=result, finished_at=clock.now(),
                output=output, progress_done=progress.total or progress.done,
                progress_total=progress.total or progress.done):
        db.session.rollback()  # another worker owns it now: our writes must not count
        log.warning("job %s: lease lost, its writes were rolled back", job_id)
        return RUNNING
    db.session.commit()
    _forget_progress(job_id)
    return DONE


def _stopped_message(job: Job) -> str:
    with use_locale(_locale_of(job)):
        return _("The work stopped with an unexpected error; nothing was saved. "
                 "Start it again, or ask the administrator.")


def _fail(job_id: int, worker: str, errors: list[dict]) -> str:
    _end(job_id, worker, state=FAILED, errors=errors, finished_at=clock.now())
    db.session.commit()
    _forget_progress(job_id)
    return FAILED


def _forget_progress(job_id: int) -> None:
    if _uses_side_file():
        _progress_file(job_id).unlink(missing_ok=True)


def work_once(worker: str) -> bool:
    """Claim and run one job; False when none was due."""
    job = claim(worker)
    if job is None:
        return False
    run(job, worker)
    return True

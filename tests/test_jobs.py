"""Background jobs: the claim and its lease, a job in one transaction (killed halfway:
nothing written, run again: complete), progress pages with and without htmx, ownership."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa

from dantoc import clock
from dantoc.catalogs import jobs as catalog_jobs
from dantoc.catalogs.import_kinds import KINDS
from dantoc.catalogs.models import AdminUnit
from dantoc.extensions import db
from dantoc.jobs import queue
from dantoc.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job
from tests.factories import make_user

ROWS = 600  # above catalog_jobs.BACKGROUND_ROWS: imported in the background


def units_csv(rows: int, prefix: str = "J") -> bytes:
    lines = ["code,name,unit_type,parent_code,valid_from,is_sample"]
    lines += [f"03388-{prefix}{i:05d},Tổ dân phố thử {i},Tổ dân phố,03388,2025-07-01,yes"
              for i in range(rows)]
    return "\n".join(lines).encode()


def imported(prefix: str = "J") -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)
                             .where(AdminUnit.code.like(f"03388-{prefix}%")))


def aware(moment):
    """SQLite gives back naive UTC datetimes."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fresh(job_id: int) -> Job:
    return db.session.get(Job, job_id, populate_existing=True)


@pytest.fixture
def owner(app):
    user = make_user("province_officer")
    user.locale = "en"
    db.session.commit()
    return user


def queued_import(owner, data: bytes | None = None) -> int:
    job = catalog_jobs.start("units", data or units_csv(ROWS), "units.csv", owner)
    db.session.commit()
    return job.id


def test_one_worker_gets_a_job_and_a_dead_workers_job_is_taken_over(app, owner):
    job_id = queued_import(owner)
    first = queue.claim("w1")
    assert first.id == job_id and first.state == RUNNING and first.attempts == 1
    assert queue.claim("w2") is None  # leased to w1
    # w1 dies: once its lease has run out, w2 takes the job over and runs it.
    db.session.execute(sa.update(Job).values(lease_until=clock.now() - timedelta(seconds=1)))
    db.session.commit()
    second = queue.claim("w2")
    assert second.id == job_id and second.locked_by == "w2" and second.attempts == 2
    assert queue.run(second, "w2") == DONE
    assert imported() == ROWS
    # w1 comes back to life and finishes too: its writes are refused, nothing doubles.
    assert queue.run(second, "w1") == RUNNING
    assert imported() == ROWS


def test_the_state_is_a_closed_set_in_the_database(app, owner):
    job_id = queued_import(owner)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(state="paused"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.IntegrityError):  # running without a lease holder
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(state=RUNNING))
        db.session.flush()
    db.session.rollback()


def test_a_job_killed_halfway_imports_nothing_and_can_be_run_again(app, owner, monkeypatch):
    job_id = queued_import(owner)
    spec = KINDS["units"]
    real_apply, applied = spec.apply, []

    def dies_halfway(values, memo):
        applied.append(1)
        if len(applied) > ROWS // 2:
            raise RuntimeError("worker killed")  # the fault, injected midway
        return real_apply(values, memo)

    monkeypatch.setattr(spec, "apply", dies_halfway)
    assert queue.work_once("w1") is True
    job = fresh(job_id)
    assert len(applied) == ROWS // 2 + 1
    assert imported() == 0  # nothing of the first half was kept
    assert job.state == QUEUED and job.attempts == 1 and aware(job.run_after) > clock.now()
    monkeypatch.setattr(spec, "apply", real_apply)
    assert queue.work_once("w1") is False  # waiting for its backoff
    db.session.execute(sa.update(Job).values(run_after=clock.now()))
    db.session.commit()
    assert queue.work_once("w1") is True
    job = fresh(job_id)
    assert job.state == DONE and job.attempts == 2
    assert job.result == {"created": ROWS, "updated": 0}
    assert (job.progress_done, job.progress_total) == (ROWS, ROWS)
    assert imported() == ROWS


def test_a_job_that_keeps_failing_ends_failed_with_a_message(app, owner, monkeypatch):
    job_id = queued_import(owner)
    monkeypatch.setattr(KINDS["units"], "apply", lambda values, memo: 1 / 0)
    for _attempt in range(3):
        db.session.execute(sa.update(Job).values(run_after=clock.now()))
        db.session.commit()
        queue.work_once("w1")
    job = fresh(job_id)
    assert job.state == FAILED and job.attempts == 3 and imported() == 0
    assert "nothing was saved" in job.errors[0]["message"]


def test_a_refused_file_fails_at_once_with_each_line(app, owner):
    bad = units_csv(ROWS).replace(b"2025-07-01,yes\n03388-J00007", b"someday,yes\n03388-J00007")
    job_id = queued_import(owner, bad)
    queue.work_once("w1")
    job = fresh(job_id)
    assert job.state == FAILED and job.attempts == 1
    assert [(e["line"], e["column"]) for e in job.errors] == [(8, "valid_from")]
    assert imported() == 0


def test_a_large_upload_becomes_a_job_with_a_progress_page(app, owner, login):
    client = login(owner)
    response = client.post("/catalogs/import", data={
        "kind": "units", "file": (__import__("io").BytesIO(units_csv(ROWS)), "units.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    job_id = int(re.search(r"/jobs/(\d+)$", response.headers["Location"]).group(1))
    assert imported() == 0  # nothing yet: the worker does it
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Waiting to start" in page
    assert re.search(r'<noscript><meta http-equiv="refresh" content="\d+"></noscript>', page)
    assert 'hx-trigger="every 2s"' in page and "<progress" in page
    fragment = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.startswith('<section id="job-status"') and "<html" not in html
    assert "units.csv" in client.get("/jobs/").get_data(as_text=True)  # come back later

    assert queue.work_once("w1") is True
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Finished" in page and f"Imported: {ROWS} new, 0 updated." in page
    assert 'value="100"' in page
    assert "every 2s" not in page and "http-equiv" not in page  # the polling stops
    assert imported() == ROWS


def test_a_small_upload_is_still_imported_at_once(app, owner, login):
    client = login(owner)
    response = client.post("/catalogs/import", data={
        "kind": "units", "file": (__import__("io").BytesIO(units_csv(5)), "units.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 303 and "/jobs/" not in response.headers["Location"]
    assert imported() == 5 and db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_only_the_owner_or_an_administrator_sees_a_job(app, owner, login):
    job_id = queued_import(owner)
    other = make_user("province_officer")
    assert login(other).get(f"/jobs/{job_id}").status_code == 404
    assert "units.csv" not in login(other).get("/jobs/").get_data(as_text=True)
    admin = make_user("admin", unit_code=None)
    assert login(admin).get(f"/jobs/{job_id}").status_code == 200
    assert login(owner).get(f"/jobs/{job_id}").status_code == 200


def test_progress_is_visible_while_the_job_runs(app, owner):
    job_id = queued_import(owner)
    job = queue.claim("w1")
    seen = []

    def watch(done, total):
        if done == ROWS // 2:
            seen.append(queue.progress_of(fresh(job_id)))

    progress = queue.Progress(job_id, "w1", every=0)
    original = progress.__call__

    class Watching(queue.Progress):
        def __call__(self, done, total=None):
            original(done, total)
            watch(done, total or self.total)

    monkeypatch_kind = queue.KINDS[catalog_jobs.KIND]
    queue.KINDS[catalog_jobs.KIND] = lambda j, _p: monkeypatch_kind(
        j, Watching(job_id, "w1", every=0))
    try:
        assert queue.run(job, "w1") == DONE
    finally:
        queue.KINDS[catalog_jobs.KIND] = monkeypatch_kind
    assert seen == [(ROWS // 2, ROWS)]

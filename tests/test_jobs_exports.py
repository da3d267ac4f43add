"""Big exports as background jobs (issue 14 item 6): above the threshold a click on the biểu
starts a job with a progress page; the worker makes the file and commits it with the job's
end; only the person who asked downloads it, their right to export checked again then; a
worker that dies halfway leaves no file and the job is run again."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from dantoc.extensions import db
from dantoc.jobs import queue
from dantoc.jobs.models import DONE, QUEUED, Job
from dantoc.reports import bieu, states
from dantoc.reports.models import UnitReport
from tests.factories import browser, make_user
from tests.test_reports_bieu import (  # noqa: F401 (fixtures)
    approved_report,
    cells,
    commune_fixture,
    province_fixture,
    world_fixture,
)


def fresh(job_id: int) -> Job:
    return db.session.get(Job, job_id, populate_existing=True)


def jobs() -> int:
    return db.session.scalar(sa.select(sa.func.count(Job.id)))


@pytest.fixture(name="big")
def big_fixture(app):
    """Every biểu counts as big: even the commune's, which computes no report below (its
    three villages come in one query: size 0, more than -1)."""
    app.config["EXPORT_BACKGROUND_UNITS"] = -1


def start(client, report) -> int:
    response = client.post(f"/reports/{report.id}/bieu/export")
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    return int(re.search(r"/jobs/(\d+)$", response.headers["Location"]).group(1))


def total_households(data: bytes):
    rows = cells(openpyxl.load_workbook(io.BytesIO(data)).active)
    header = next(r for r in rows if r[0] == "No.")
    column = next(i for i, v in enumerate(header) if v and str(v).startswith("Tổng số hộ"))
    return next(r for r in rows if r[1] == "Total")[column], [r[1] for r in rows
                                                             if isinstance(r[0], int)]


def test_a_big_biểu_is_made_by_a_job_and_downloaded_by_its_owner(world, commune, province,
                                                                  big, app):
    report = approved_report(world, commune, province)
    _user, client = province
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert f'action="/reports/{report.id}/bieu/export"' in page  # a button, not a link
    offer = client.get(f"/reports/{report.id}/bieu.xlsx")  # the link, typed or bookmarked
    assert offer.status_code == 200 and "text/html" in offer.headers["Content-Type"]
    assert "Prepare the file" in offer.get_data(as_text=True) and jobs() == 0  # GET: no job
    job_id = start(client, report)
    assert start(client, report) == job_id  # a second click shows the same job
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Waiting to start" in html and 'hx-trigger="every 2s"' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    assert client.get(f"/jobs/{job_id}/download").status_code == 409  # not ready yet

    assert queue.work_once("w1") is True
    job = fresh(job_id)
    assert job.state == DONE and (job.progress_done, job.progress_total) == (3, 3)
    assert job.result["file"] == f"{report.form.code}-{report.period.code}-03388.xlsx"
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "The file is ready." in html and f"/jobs/{job_id}/download" in html
    assert "every 2s" not in html
    assert "Official biểu" in client.get("/jobs/").get_data(as_text=True)  # come back later

    response = client.get(f"/jobs/{job_id}/download")
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["Content-Type"]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{job.result["file"]}"')
    assert "no-store" in response.headers["Cache-Control"]
    total, units = total_households(response.data)
    assert total == 15 and sorted(units) == sorted(v.name for v in world.villages)
    app.config["EXPORT_BACKGROUND_UNITS"] = 0  # the same biểu made at once: the same file
    at_once = client.get(f"/reports/{report.id}/bieu.xlsx")
    assert total_households(at_once.data) == (total, units)


def test_another_person_never_gets_the_file(world, commune, province, big, app):
    report = approved_report(world, commune, province)
    job_id = start(province[1], report)
    queue.work_once("w1")
    other = browser(app, make_user("province_officer", unit_code="12"))
    admin = browser(app, make_user("admin", unit_code=None))
    for client in (other, admin, commune[1]):
        assert client.get(f"/jobs/{job_id}/download").status_code == 404
    assert commune[1].post(f"/reports/{report.id}/bieu/export").status_code == 403
    assert browser(app, None).get(f"/jobs/{job_id}/download").status_code in (302, 401)


def test_the_right_to_export_is_checked_again_at_download(world, commune, province, big):
    report = approved_report(world, commune, province)
    user, client = province
    job_id = start(client, report)
    queue.work_once("w1")
    # The report is reopened after the file was made: the file is no longer the official one.
    db.session.execute(sa.update(UnitReport).where(UnitReport.id == report.id)
                       .values(state=states.SUBMITTED, version=UnitReport.version + 1))
    db.session.commit()
    assert client.get(f"/jobs/{job_id}/download").status_code == 409
    db.session.execute(sa.update(UnitReport).where(UnitReport.id == report.id)
                       .values(state=states.APPROVED, version=UnitReport.version - 1))
    db.session.commit()
    assert client.get(f"/jobs/{job_id}/download").status_code == 200
    # The officer moves to another province's unit: out of scope now.
    user.unit_id = world.villages[0].id
    db.session.commit()
    assert client.get(f"/jobs/{job_id}/download").status_code == 403


def test_a_worker_that_dies_halfway_leaves_no_file_and_the_job_runs_again(
        world, commune, province, big, monkeypatch):
    report = approved_report(world, commune, province)
    job_id = start(province[1], report)
    real = bieu.to_xlsx

    def dies(made):
        raise RuntimeError("worker killed while writing the workbook")

    monkeypatch.setattr(bieu, "to_xlsx", dies)
    queue.work_once("w1")
    job = fresh(job_id)
    assert job.state == QUEUED and job.output is None and job.result is None
    assert province[1].get(f"/jobs/{job_id}/download").status_code == 409
    monkeypatch.setattr(bieu, "to_xlsx", real)
    db.session.execute(sa.update(Job).values(run_after=sa.func.now()))
    db.session.commit()
    assert queue.work_once("w1") is True
    job = fresh(job_id)
    assert job.state == DONE and job.attempts == 2
    assert total_households(job.output)[0] == 15


def test_a_small_biểu_is_still_made_at_once(world, commune, province):
    report = approved_report(world, commune, province)
    assert bieu.size_of(report) == 0  # a commune's villages: no report below to compute
    response = province[1].get(f"/reports/{report.id}/bieu.xlsx")
    assert response.status_code == 200 and "spreadsheetml" in response.headers["Content-Type"]
    assert jobs() == 0


def test_old_files_are_dropped_after_the_keeping_days(world, commune, province, big, app):
    report = approved_report(world, commune, province)
    job_id = start(province[1], report)
    queue.work_once("w1")
    assert queue.forget_old_files() == 0
    app.config["EXPORT_KEEP_DAYS"] = -1
    assert queue.forget_old_files() == 1
    assert fresh(job_id).output is None
    response = province[1].get(f"/jobs/{job_id}/download")
    assert response.status_code == 404 and "Prepare it again" in response.get_data(as_text=True)

"""A commune's village-data XLSX import as a background job (a commune with many villages)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from dantoc.extensions import db
from dantoc.jobs import queue
from dantoc.jobs.models import DONE, FAILED, Job
from dantoc.submissions import jobs as submission_jobs
from dantoc.submissions import states
from dantoc.submissions.models import Submission
from tests import test_submissions_workbook as workbook_tests
from tests.factories_submissions import entry_fixture  # noqa: F401 (the entry fixture)
from tests.test_submissions_workbook import VILLAGES, fill, saved, template, upload, village_sheets

commune = workbook_tests.commune  # the fixture: 30 villages and a signed-in officer


def test_a_large_communes_file_is_imported_by_a_job(entry, commune, monkeypatch):
    monkeypatch.setattr(submission_jobs, "BACKGROUND_VILLAGES", 10)
    _officer, client, url = commune
    book = template(client, url)
    for ws in village_sheets(book):
        fill(ws)
    response = upload(client, url, saved(book))
    assert response.status_code == 303
    job_id = int(re.search(r"/jobs/(\d+)$", response.headers["Location"]).group(1))
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0
    assert queue.work_once("w1") is True
    job = db.session.get(Job, job_id, populate_existing=True)
    assert job.state == DONE and job.result == {"submitted": VILLAGES, "unchanged": 0}
    reports = db.session.scalars(sa.select(Submission)).all()
    assert len(reports) == VILLAGES and {r.state for r in reports} == {states.SUBMITTED}
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f"{VILLAGES} reports sent for review, 0 unchanged" in page


def test_bad_cells_fail_the_job_and_import_nothing(entry, commune, monkeypatch):
    monkeypatch.setattr(submission_jobs, "BACKGROUND_VILLAGES", 10)
    _officer, client, url = commune
    book = template(client, url)
    sheets = village_sheets(book)
    for ws in sheets:
        fill(ws)
    fill(sheets[3], households="nhiều")
    response = upload(client, url, saved(book))
    job_id = int(re.search(r"/jobs/(\d+)$", response.headers["Location"]).group(1))
    queue.work_once("w1")
    job = db.session.get(Job, job_id, populate_existing=True)
    assert job.state == FAILED and len(job.errors) == 1
    assert sheets[3].title in job.errors[0]["message"]
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Nothing was imported" in page and sheets[3].title in page

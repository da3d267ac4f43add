"""A lookup table above ``EXPORT_BACKGROUND_CELLS`` is exported by a background job: the
same cells as the immediate export, the file for its owner only, their scope checked again
at download."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import sqlalchemy as sa

from dantoc.extensions import db
from dantoc.jobs import queue
from dantoc.jobs.models import DONE, Job
from tests.factories import browser, make_user
from tests.test_lookup import data, province, url  # noqa: F401 (fixtures)


def rows_of(xlsx: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    return [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]


def start(client, link: str, kind: str) -> int:
    response = client.post(link.replace("/lookup/?", "/lookup/export?") + f"&format={kind}")
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    return int(re.search(r"/jobs/(\d+)$", response.headers["Location"]).group(1))


def test_a_large_table_is_exported_by_a_job_for_its_owner_only(app, entry, data,  # noqa: F811
                                                                province):  # noqa: F811
    link = url(data, entry, "households", "poor_households")
    immediate = rows_of(province.get(link + "&format=xlsx").data)
    app.config["EXPORT_BACKGROUND_CELLS"] = 1
    page = province.get(link).get_data(as_text=True)
    assert 'id="export-in-background"' in page and "/lookup/export?" in page
    offer = province.get(link + "&format=xlsx")
    assert "text/html" in offer.headers["Content-Type"]
    assert "Prepare the file" in offer.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0  # a GET starts nothing
    xlsx_job, csv_job = start(province, link, "xlsx"), start(province, link, "csv")
    assert xlsx_job != csv_job and start(province, link, "xlsx") == xlsx_job
    assert queue.work_once("w1") and queue.work_once("w1")
    assert {j.state for j in db.session.scalars(sa.select(Job))} == {DONE}

    response = province.get(f"/jobs/{xlsx_job}/download")
    assert response.status_code == 200
    assert re.fullmatch(r'attachment; filename="tra-cuu-\d{4}-\d\d-\d\d\.xlsx"',
                        response.headers["Content-Disposition"])
    assert rows_of(response.data) == immediate and immediate[-1][:2] == ["Total", 95]
    text = province.get(f"/jobs/{csv_job}/download").data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[-1][:2] == ["Total", "95"]

    officer = browser(app, data["officer"])  # may use the lookup, but did not ask for this
    assert officer.get(f"/jobs/{xlsx_job}/download").status_code == 404
    assert officer.get(f"/jobs/{xlsx_job}").status_code == 404


def test_the_owners_scope_is_checked_again_at_download(app, entry, data):  # noqa: F811
    app.config["EXPORT_BACKGROUND_CELLS"] = 0
    user = make_user("commune_officer", unit_code="03388")
    user.locale = "en"
    db.session.commit()
    client = browser(app, user)
    link = url(data, entry, "households", unit=entry.village.parent_id)
    job_id = start(client, link, "csv")
    queue.work_once("w1")
    assert client.get(f"/jobs/{job_id}/download").status_code == 200
    user.unit_id = make_user("commune_officer", unit_code="03391").unit_id  # moved away
    db.session.commit()
    assert client.get(f"/jobs/{job_id}/download").status_code == 403

"""XLSX bulk import of village data (issue #14): the commune's template, all or nothing, each
error at its sheet, row and column, and the same file twice creates nothing new."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

from dantoc.extensions import db
from dantoc.submissions import states
from dantoc.submissions.models import Submission, SubmissionValue, SubmissionVersion
from tests.factories import (
    counts,
    make_officer,
    make_village,
)

VILLAGES = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def commune(app, entry):
    """The entry village's commune with 30 villages and a signed-in officer of it."""
    for _ in range(VILLAGES - 1):
        make_village()
    make_village(commune_code="03391")  # a village of another commune: never in the file
    db.session.commit()
    officer, client = make_officer(app)
    url = f"/entry/for/import/{entry.version.form.code}/{entry.period.code}"
    return officer, client, url


def template(client, url: str) -> openpyxl.Workbook:
    response = client.get(url + "/template.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.data))


def row_of(ws, label: str, column: int = 1, after: int = 0) -> int:
    return next(r for r in range(after + 1, ws.max_row + 1)
                if str(ws.cell(r, column).value or "").startswith(label))


def fill(ws, households=42, poor=9) -> None:
    """A village's sheet filled as an officer would: by the labels in column A."""
    ws.cell(row_of(ws, "Tổng số hộ"), 3, households)
    ws.cell(row_of(ws, "Số hộ nghèo"), 3, poor)
    ws.cell(row_of(ws, "Khoảng cách"), 3, 12.5)
    ws.cell(row_of(ws, "Đường đã cứng hóa"), 3, "Yes")
    ws.cell(row_of(ws, "Tiếp cận y tế"), 3, "Dưới 5 km")
    grid = row_of(ws, "Số nhân khẩu")
    thai = row_of(ws, "Thái", after=grid)
    ws.cell(thai, 2, 80)
    ws.cell(thai, 3, 78)


def village_sheets(book) -> list:
    return [ws for ws in book.worksheets if ws.sheet_state == "visible"]


def saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, url: str, data: bytes, name: str = "xa.xlsx"):
    return client.post(url, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_template_has_a_sheet_per_village_of_the_commune(entry, commune):
    _officer, client, url = commune
    book = template(client, url)
    sheets = village_sheets(book)
    assert len(sheets) == VILLAGES
    assert entry.village.name.startswith(sheets[0].title[:20]) or any(
        entry.village.name.startswith(ws.title[:20]) for ws in sheets)
    ws = sheets[0]
    assert ws.cell(row_of(ws, "Tổng số hộ"), 1).value == "Tổng số hộ (hộ)"
    assert book["dantoc"].sheet_state == "hidden"


def test_a_valid_file_imports_30_reports_and_the_same_file_again_nothing(entry, commune):
    officer, client, url = commune
    book = template(client, url)
    for ws in village_sheets(book):
        fill(ws)
    data = saved(book)

    response = upload(client, url, data)
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    reports = db.session.scalars(sa.select(Submission)).all()
    assert len(reports) == VILLAGES
    assert {r.state for r in reports} == {states.SUBMITTED}
    versions = db.session.scalars(sa.select(SubmissionVersion)).all()
    assert {(v.source, v.submitted_by_id) for v in versions} == {(states.FILE, officer.id)}
    households = db.session.scalars(sa.select(SubmissionValue.value_numeric).where(
        SubmissionValue.disaggregation == "").where(SubmissionValue.value_numeric == 42)).all()
    assert len(households) == VILLAGES
    before = counts()

    again = upload(client, url, data)
    assert again.status_code == 303
    assert counts() == before
    page = client.get("/entry/for/").get_data(as_text=True)
    assert "0 reports sent for review, 30 unchanged" in page


def test_three_bad_cells_import_nothing_and_name_each_place(entry, commune):
    _officer, client, url = commune
    book = template(client, url)
    sheets = village_sheets(book)
    for ws in sheets:
        fill(ws)
    first, second = sheets[0], sheets[1]
    first.cell(row_of(first, "Tổng số hộ"), 3, "bốn mươi")           # text in a number cell
    second.cell(row_of(second, "Khoảng cách"), 3, 500)                # above the maximum 200
    third = sheets[2]
    third.cell(row_of(third, "Số hộ nghèo"), 3, 50)                   # rule: poor ≤ households
    response = upload(client, url, saved(book))
    assert response.status_code == 422
    assert counts()["submissions"] == 0
    html = response.get_data(as_text=True)
    errors = html[html.index('id="import-errors"'):html.index("</ul>", html.index(
        'id="import-errors"'))].count("<li>")
    assert errors == 3
    for ws, label in ((first, "Tổng số hộ"), (second, "Khoảng cách")):
        place = f"Sheet “{ws.title}”, row {row_of(ws, label)}, column C: "
        assert place in html, place
    rule = "Số hộ nghèo không được lớn hơn tổng số hộ."
    assert any(f"Sheet “{third.title}”, row {row_of(third, label)}, column C: {rule}" in html
               for label in ("Tổng số hộ", "Số hộ nghèo"))


def _with_macro(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 64)
    return out.getvalue()


@pytest.mark.parametrize("case, expected", [
    ("macro", "macros"),
    ("formula", "a formula"),
    ("merged", "merged cells"),
    ("other_period", "another form, version, period or commune"),
    ("foreign_sheet", "not a village of this commune"),
    ("not_xlsx", "not a valid XLSX workbook"),
    ("no_template", "not made from this site"),
])
def test_bad_files_are_refused_with_a_clear_message(entry, commune, case, expected):
    _officer, client, url = commune
    book = template(client, url)
    sheets = village_sheets(book)
    for ws in sheets:
        fill(ws)
    ws = sheets[0]
    if case == "formula":
        ws.cell(row_of(ws, "Tổng số hộ"), 3, "=40+2")
    elif case == "merged":
        row = row_of(ws, "Tổng số hộ")
        ws.merge_cells(start_row=row, start_column=3, end_row=row + 1, end_column=3)
    elif case == "other_period":
        meta = book["dantoc"]
        meta.cell(row_of(meta, "period"), 2, "2025")
    elif case == "foreign_sheet":
        book.create_sheet("Bản khác")
    elif case == "no_template":
        del book["dantoc"]
    data = saved(book)
    if case == "macro":
        data = _with_macro(data)
    elif case == "not_xlsx":
        data = b"MZ\x90\x00 this is an executable, renamed"
    response = upload(client, url, data)
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)
    assert counts()["submissions"] == 0


def test_only_the_communes_officers_import(app, entry, commune):
    _officer, _client, url = commune
    _other, client = make_officer(app, unit_code="03391")
    book = openpyxl.load_workbook(io.BytesIO(commune[1].get(url + "/template.xlsx").data))
    for ws in village_sheets(book):
        fill(ws)
    # the other commune's officer gets their own (empty) template; this file is not theirs
    response = upload(client, url, saved(book))
    assert response.status_code == 422
    assert counts()["submissions"] == 0
    assert entry.client.get(url).status_code == 403  # a village head


def test_a_form_without_grids_is_one_row_per_village(entry, commune):
    from tests.factories import INDICATORS, RULES, make_questionnaire

    _officer, client, _url = commune
    version = make_questionnaire(indicators=[i for i in INDICATORS if i[0] != "population"],
                                 rules=RULES[:1])
    url = f"/entry/for/import/{version.form.code}/{entry.period.code}"
    book = template(client, url)
    [ws] = village_sheets(book)
    headers = [c.value for c in ws[1]]
    assert headers[:2] == ["Village code", "Village"] and "Tổng số hộ (hộ)" in headers
    assert ws.max_row == 1 + VILLAGES
    column = {h: i + 1 for i, h in enumerate(headers)}
    for row in range(2, 12):  # ten villages report; the others stay empty
        ws.cell(row, column["Tổng số hộ (hộ)"], 30)
        ws.cell(row, column["Số hộ nghèo"], 3)
    ws.cell(VILLAGES + 3, 1, "99999-X")  # a row the template did not have
    ws.cell(VILLAGES + 3, column["Tổng số hộ (hộ)"], 5)
    refused = upload(client, url, saved(book))
    assert refused.status_code == 422
    assert "99999-X is not a village of this commune" in refused.get_data(as_text=True)
    ws.delete_rows(VILLAGES + 3)
    assert upload(client, url, saved(book)).status_code == 303
    assert counts()["submissions"] == 10

"""The official biểu of an approved report (issue #11 item 4): XLSX in the regulation's
layout and the print page, labels in words, totals equal to the report page."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.test_reports_flow import submitted_report
from tests.test_reports_support import COMMUNE, make_world, officer, put, village_values


@pytest.fixture(name="world")
def world_fixture(app):
    """Three villages of 03388: two approved, one only submitted (as test_reports_flow)."""
    w = make_world()
    put(w.version, w.villages[0], w.period, village_values(10, 20, 30))
    put(w.version, w.villages[1], w.period, village_values(5, 7, 9))
    put(w.version, w.villages[2], w.period, village_values(100, 1, 1), state="submitted")
    return w


@pytest.fixture(name="commune")
def commune_fixture(app):
    return officer(app, "commune_officer", COMMUNE)


@pytest.fixture(name="province")
def province_fixture(app):
    return officer(app, "province_officer", "12")


def approved_report(w, commune, province):
    report = submitted_report(w, commune[1])
    response = province[1].post(f"/reports/{report.id}/approve",
                                data={"version": str(report.version)})
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    return report


def cells(sheet) -> list[list]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_the_biểu_has_the_heading_a_row_per_village_and_the_reports_total(world, commune,
                                                                         province):
    report = approved_report(world, commune, province)
    response = province[1].get(f"/reports/{report.id}/bieu.xlsx")
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["Content-Type"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = cells(sheet)
    text = " ".join(str(v) for row in rows for v in row if v is not None)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert world.version.form.name.upper() in text
    assert "Prepared by" in text and "Head of the unit" in text
    header = next(r for r in rows if r[0] == "No.")
    assert "=" not in " ".join(str(v) for v in header if v)
    thai_female = next(i for i, v in enumerate(header) if v and "Thái" in str(v))
    assert "Nữ" in header[thai_female]
    households = next(i for i, v in enumerate(header) if v and str(v).startswith("Tổng số hộ"))
    body = [r for r in rows if isinstance(r[0], int)]
    assert sorted(r[1] for r in body) == sorted(v.name for v in world.villages)
    total = next(r for r in rows if r[1] == "Total")
    assert total[households] == 15  # 10 + 5: the third village was not approved
    assert total[thai_female] == 39
    by_village = {r[1]: r[households] for r in body}
    assert by_village[world.villages[2].name] is None
    page = province[1].get(f"/reports/{report.id}/bieu").get_data(as_text=True)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in page and ">15<" in page


def test_the_report_page_links_the_biểu_once_approved(world, commune, province):
    report = submitted_report(world, commune[1])
    assert 'id="bieu-links"' not in province[1].get(f"/reports/{report.id}")\
        .get_data(as_text=True)
    assert province[1].get(f"/reports/{report.id}/bieu.xlsx").status_code == 409
    province[1].post(f"/reports/{report.id}/approve", data={"version": str(report.version)})
    assert 'id="bieu-links"' in province[1].get(f"/reports/{report.id}")\
        .get_data(as_text=True)


def test_only_those_who_export_get_the_biểu(world, commune, province):
    report = approved_report(world, commune, province)
    assert commune[1].get(f"/reports/{report.id}/bieu.xlsx").status_code == 403  # no verb
    assert commune[1].get(f"/reports/{report.id}/bieu").status_code == 403

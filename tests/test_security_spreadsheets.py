"""Malformed and hostile XLSX uploads get the importers' clear refusal, never a 500: broken
styles (``<fill/>``), broken sheet XML, a NaN cell, an empty workbook, a DOCTYPE with an
entity, a workbook without sheets, bytes that are no ZIP (catalog and translation imports)."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest

from dantoc.catalogs.importer import ImportRefused as CatalogRefused
from dantoc.catalogs.importer import import_file
from dantoc.i18n import exchange_formats
from dantoc.i18n.exchange import ImportRefused as TranslationRefused
from dantoc.web.spreadsheets import BadWorkbook, xlsx_rows

HEADER = ["code", "name", "unit_type", "parent_code", "valid_from", "valid_to", "is_sample"]


def _workbook(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _edit(data: bytes, part: str, change) -> bytes:
    """The workbook with one of its parts rewritten by ``change`` (text → text)."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == part:
                content = change(content.decode()).encode()
            out.writestr(item, content)
    return target.getvalue()


GOOD = _workbook([HEADER, ["03408-001", "Bản Thử", "ban", "03408", "2025-07-01", "", ""],
                  [1, "Số", 2.5]])
SHEET, STYLES, BOOK = "xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml"
BROKEN = {
    "empty_fill": _edit(GOOD, STYLES, lambda xml: re.sub(
        r"<fills[^>]*>.*?</fills>", '<fills count="1"><fill/></fills>', xml, flags=re.S)),
    "broken_sheet_xml": _edit(GOOD, SHEET, lambda xml: xml[: len(xml) // 2]),
    "nan_cell": _edit(GOOD, SHEET, lambda xml: xml.replace("<v>2.5</v>", "<v>NaN</v>")),
    "infinity_cell": _edit(GOOD, SHEET, lambda xml: xml.replace("<v>2.5</v>", "<v>1e309</v>")),
    "doctype_entity": _edit(GOOD, SHEET, lambda xml: xml.replace(
        "<worksheet", '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]><worksheet', 1).replace(
        "<v>1</v>", "<v>&a;</v>")),
    "no_sheets": _edit(GOOD, BOOK, lambda xml: re.sub(r"<sheets>.*?</sheets>", "<sheets/>",
                                                      xml, flags=re.S)),
    "empty_workbook": _workbook([]),
    "not_a_zip": b"PK\x03\x04 not really a zip",
    "zip_without_workbook": (lambda b: (zipfile.ZipFile(b, "w").close(), b.getvalue())[1])(
        io.BytesIO()),
}


@pytest.fixture(autouse=True)
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def test_the_good_workbook_is_read():
    rows = xlsx_rows(GOOD, 10)
    assert rows[0][:2] == ("code", "name") and rows[2][:3] == (1, "Số", 2.5)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_catalog_import_refuses_clearly(app, name):
    with pytest.raises(CatalogRefused) as refused:
        import_file("units", io.BytesIO(BROKEN[name]), "units.xlsx")
    message = " ".join(str(error) for error in refused.value.errors)
    assert re.search(r"XLSX|empty|nội dung|code|mã|must|Line|line|Dòng|dòng", message), message


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_translation_import_refuses_clearly(app, name):
    try:
        rows = exchange_formats.read(BROKEN[name], "vi.xlsx", "en")
    except TranslationRefused as refused:
        assert str(refused.errors[0]), name
    else:  # a readable sheet whose cells are odd: rows, not a crash
        assert name == "infinity_cell", rows


@pytest.mark.parametrize("name", ["empty_fill", "broken_sheet_xml", "doctype_entity",
                                  "not_a_zip", "zip_without_workbook"])
def test_unreadable_workbooks_are_bad_workbooks(name):
    with pytest.raises(BadWorkbook):
        xlsx_rows(BROKEN[name], 10)


def test_an_infinite_cell_becomes_text_a_nan_cell_an_unreadable_file():
    """openpyxl reads ``1e309`` as a float (infinity, kept as the text "inf" for the column
    to refuse) and ``NaN`` as an integer it cannot parse (the file is refused)."""
    assert xlsx_rows(BROKEN["infinity_cell"], 10)[2][2] == "inf"
    with pytest.raises(BadWorkbook):
        xlsx_rows(BROKEN["nan_cell"], 10)


@pytest.mark.parametrize("name", ["empty_fill", "broken_sheet_xml", "doctype_entity"])
def test_the_import_pages_answer_400s_not_500s(app, login, name):
    from tests.factories import make_user

    client = login(make_user("admin", unit_code=None))
    catalog = client.post("/catalogs/import", data={
        "kind": "units", "file": (io.BytesIO(BROKEN[name]), "units.xlsx")},
        content_type="multipart/form-data")
    translation = client.post("/i18n/en/import", data={
        "file": (io.BytesIO(BROKEN[name]), "en.xlsx")}, content_type="multipart/form-data")
    assert catalog.status_code < 500 and translation.status_code < 500
    assert "XLSX" in catalog.get_data(as_text=True)

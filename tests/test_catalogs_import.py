"""Catalog import from CSV and XLSX: all rows or none, with line-numbered errors."""

import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.catalogs import importer, queries
from dantoc.catalogs.importer import ImportRefused, import_file
from dantoc.catalogs.models import AdminUnit, EthnicGroup, Religion
from dantoc.extensions import db

HEADER = ["code", "name", "unit_type", "parent_code", "valid_from", "valid_to", "is_sample"]
GOOD = [
    ["03388-001", "Tổ dân phố 1", "Tổ dân phố", "03388", "2025-07-01", "", "yes"],
    ["03408-001", "Bản Thử", "ban", "03408", "01/07/2025", "", "x"],
]


@pytest.fixture(autouse=True)
def english(app):
    """Messages in English, so the tests can read them."""
    with app.test_request_context("/?lang=en"):
        yield


def as_csv(rows, delimiter=",") -> bytes:
    return "\n".join(delimiter.join(str(cell) for cell in row) for row in rows).encode()


def as_xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def run(rows, fmt="csv", kind="units"):
    data = as_csv(rows) if fmt == "csv" else as_xlsx(rows)
    return import_file(kind, io.BytesIO(data), f"catalog.{fmt}")


def unit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_villages_are_loaded_under_current_communes(app, fmt):
    result = run([HEADER, *GOOD], fmt)
    db.session.commit()
    assert (result.created, result.updated) == (2, 0)
    village = queries.resolve("03408-001", date(2025, 7, 1))
    assert (village.name, village.parent.name, village.level.code) == (
        "Bản Thử", "Phường Tân Phong", "village")
    assert village.is_sample is True and village.unit_type.name == "Bản"
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("catalog.unit.create") == 2
    assert actions.count("catalog.import") == 1


def test_reimport_updates_and_semicolons_work(app):
    run([HEADER, *GOOD])
    renamed = [HEADER, [*GOOD[0][:1], "Tổ dân phố Một", *GOOD[0][2:]]]
    data = as_csv(renamed, delimiter=";")
    result = import_file("units", io.BytesIO(data), "again.CSV")
    assert (result.created, result.updated) == (0, 1)
    assert queries.resolve("03388-001", date(2026, 1, 1)).name == "Tổ dân phố Một"


def test_ethnic_groups_and_religions(app):
    result = run([["code", "code_2008", "name", "other_names"],
                  ["03", "03", "Thái", "Tày Đăm; Tày Khao"]], kind="ethnic_groups")
    assert (result.created, result.updated) == (0, 1)
    thai = db.session.scalar(sa.select(EthnicGroup).filter_by(code="03"))
    assert thai.other_names == "Tày Đăm; Tày Khao" and thai.language_group == "Tày-Thái"
    result = run([["code", "name", "recognised", "followers_census_2019"],
                  ["", "Tôn giáo thử", "no", "\"1,234\""]], kind="religions")
    assert (result.created, result.updated) == (1, 0)
    religion = db.session.scalar(sa.select(Religion).filter_by(name="Tôn giáo thử"))
    assert (religion.recognised, religion.followers_census_2019) == (False, 1234)


#: (rows after the header and the good rows, expected line, column, words in the message)
MALFORMED = {
    "bad-date": ([["V-3", "Bản A", "ban", "03388", "2025-13-01"]], 4, "valid_from",
                 "Not a date"),
    "unknown-parent": ([["V-3", "Bản A", "ban", "99999", "2025-07-01"]], 4, "parent_code",
                       "99999"),
    "parent-gone": ([["V-3", "Bản A", "ban", "105", "2025-01-01"]], 4, "parent_code",
                    "exists only"),
    "overlap": ([["03388", "Phường X", "phuong", "12", "2025-08-01"]], 4, "valid_from",
                "overlap"),
    "duplicate": ([GOOD[0]], 4, None, "Same entry as line 2"),
    "unknown-type": ([["V-3", "Bản A", "hamlet", "03388", "2025-07-01"]], 4, "unit_type",
                     "Unknown unit type"),
    "missing-name": ([["V-3", "", "ban", "03388", "2025-07-01"]], 4, "name", "required"),
    "extra-cells": ([["V-3", "Bản A", "ban", "03388", "2025-07-01", "", "", "oops"]], 4, None,
                    "more cells"),
    "bad-flag": ([["V-3", "Bản A", "ban", "03388", "2025-07-01", "", "maybe"]], 4,
                 "is_sample", "yes or no"),
    "wrong-level": ([["V-3", "Xã A", "xa", "03388-001", "2025-07-01"]], 4, "parent_code",
                    "cannot be placed"),
}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_rows_refuse_the_whole_file(app, fmt, case):
    rows, line, column, words = MALFORMED[case]
    before = unit_count()
    with pytest.raises(ImportRefused) as refused:
        run([HEADER, *GOOD, *rows], fmt)
    [error] = refused.value.errors
    assert (error.line, error.column) == (line, column)
    assert words in str(error)
    assert str(error).startswith(f"Line {line}, {column}:" if column else f"Line {line}:")
    assert unit_count() == before
    db.session.commit()
    assert unit_count() == before
    assert queries.resolve("03388-001", date(2025, 7, 1)) is None


@pytest.mark.parametrize(("header", "column", "words"), [
    (["code", "name", "unit_type", "valid_from", "colour"], "colour", "Unknown column"),
    (["code", "name", "valid_from"], "unit_type", "missing"),
    (["code", "code", "name", "unit_type", "valid_from"], "code", "twice"),
])
def test_bad_headers(app, header, column, words):
    with pytest.raises(ImportRefused) as refused:
        run([header, ["V-1"] * len(header)])
    assert any(e.line == 1 and e.column == column and words in str(e)
               for e in refused.value.errors)


@pytest.mark.parametrize(("data", "filename", "words"), [
    (b"code,name\nV,x\n", "catalog.txt", "Only CSV or XLSX"),
    (b"", "catalog.csv", "empty"),
    (b"  \n", "catalog.csv", "empty"),
    (",".join(HEADER).encode() + b"\n", "catalog.csv", "no rows"),
    ("code,name\nV,Bản\n".encode("utf-16"), "catalog.csv", "UTF-8"),
    (b'code,name\n"V,Ban\n', "catalog.csv", "Line 2"),
    (b"PK\x03\x04 not really a workbook", "catalog.xlsx", "not a valid XLSX"),
])
def test_unreadable_files(app, data, filename, words):
    with pytest.raises(ImportRefused) as refused:
        import_file("units", io.BytesIO(data), filename)
    assert words in str(refused.value.errors[0])


def test_too_many_rows(app, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 1)
    with pytest.raises(ImportRefused) as refused:
        run([HEADER, *GOOD])
    assert "more than 1 rows" in str(refused.value.errors[0])


def test_numeric_codes_in_xlsx_are_refused(app):
    with pytest.raises(ImportRefused) as refused:
        run([HEADER, [3388001, "Bản", "ban", "03388", date(2025, 7, 1)]], "xlsx")
    [error] = refused.value.errors
    assert (error.line, error.column) == (2, "code") and "as text" in str(error)


def test_a_database_refusal_rolls_back_every_row(app, monkeypatch):
    """With the service checks switched off, the trigger refuses line 4: nothing stays."""
    monkeypatch.setattr("dantoc.catalogs.services.check_unit", lambda *args: None)
    before = unit_count()
    with pytest.raises(ImportRefused) as refused:
        run([HEADER, *GOOD, ["03388", "Phường X", "phuong", "12", "2025-08-01"]])
    [error] = refused.value.errors
    assert error.line == 4 and "database refused" in str(error)
    assert unit_count() == before
    assert db.session.scalars(sa.select(AuditEvent).filter_by(
        action="catalog.unit.create")).all() == []


def test_cli_import(app, runner, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(as_csv([HEADER, *GOOD]))
    bad.write_bytes(as_csv([HEADER, ["V-9", "Bản", "ban", "99999", "2025-07-01"]]))
    result = runner.invoke(args=["import-catalog", "units", str(bad)])
    assert result.exit_code == 1 and "Line 2, parent_code" in result.stderr
    result = runner.invoke(args=["import-catalog", "units", str(good)])
    assert result.exit_code == 0 and "2 new and 0 updated" in result.output
    assert queries.resolve("03388-001", date(2025, 7, 1)) is not None

"""Translator workflow: export → fill → import round trips, refused imports, coverage, views."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po, write_po

from dantoc.audit.models import AuditEvent
from dantoc.catalogs.models import EthnicGroup
from dantoc.extensions import db
from dantoc.i18n import coverage, exchange, exchange_formats
from dantoc.i18n.models import ContentTranslation, InterfaceTranslation
from dantoc.i18n.selection import registry
from tests import i18n_support
from tests.i18n_support import TEST_TAG

qaa_translations = i18n_support.qaa_translations
qaa_app = i18n_support.qaa_app
qaa_client = i18n_support.qaa_client
FORMATS = ["csv", "xlsx", "po"]


@pytest.fixture
def english(qaa_app):
    """Messages in English, the language the assertions are written in."""
    with qaa_app.test_request_context("/?lang=en"):
        yield


def locale():
    return registry()[TEST_TAG]


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def ethnic(code: str) -> EthnicGroup:
    return db.session.scalar(sa.select(EthnicGroup).where(EthnicGroup.code == code))


def fake(source: str) -> str:
    """Test data, visibly not a language; keeps the source's placeholders."""
    return "QAA-TEST " + source


def fill(rows, keys) -> list:
    for row in rows:
        if row.key in keys:
            row.translation = fake(row.source_vi if row.kind == "content" else row.key)
    return rows


# --- file formats: export → edit in the file → import -------------------------------------

def edit_csv(data: bytes, keys) -> bytes:
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    for line in table[1:]:
        if line[1] in keys:
            line[4] = fake(line[2] if line[0] == "content" else line[1])
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue().encode("utf-8")


def edit_xlsx(data: bytes, keys) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    for row in book.active.iter_rows(min_row=2):
        if row[1].value in keys:
            source = row[2].value if row[0].value == "content" else row[1].value
            row[4].value = fake(source)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def edit_po(data: bytes, keys) -> bytes:
    catalog = read_po(io.BytesIO(data), locale=None)
    for message in catalog:
        msgid = message.id[0] if message.pluralizable else message.id
        key = (message.context or "").removeprefix("content:") or msgid
        if msgid and key in keys:
            text = fake(msgid)
            message.string = (text, text) if message.pluralizable else text
    out = io.BytesIO()
    write_po(out, catalog)
    return out.getvalue()


EDIT = {"csv": edit_csv, "xlsx": edit_xlsx, "po": edit_po}


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_of_content_and_interface(qaa_app, fmt):
    thai, kinh = ethnic("03"), ethnic("01")
    keys = {f"ethnic_groups:{thai.id}:name", f"ethnic_groups:{kinh.id}:name", "Password",
            "%(num)s unit"}
    rows = exchange.export_rows(locale())
    assert {r.key for r in rows} >= keys
    data = exchange_formats.write(rows, fmt, TEST_TAG)

    edited = EDIT[fmt](data, keys)
    result = exchange.apply(locale(), exchange_formats.read(edited, f"x.{fmt}", TEST_TAG))
    db.session.commit()

    assert (result.changed, result.unchanged) == (len(keys), 0)
    stored = dict(db.session.execute(sa.select(ContentTranslation.object_id,
                                               ContentTranslation.text)).tuples().all())
    assert stored == {thai.id: "QAA-TEST Thái", kinh.id: "QAA-TEST Kinh"}
    assert db.session.scalar(sa.select(ContentTranslation.source_text).where(
        ContentTranslation.object_id == thai.id)) == "Thái"
    interface = dict(db.session.execute(sa.select(InterfaceTranslation.msgid,
                                                  InterfaceTranslation.text)).tuples().all())
    assert interface["Password"] == "QAA-TEST Password"
    assert interface["%(num)s unit"] == "QAA-TEST %(num)s unit"
    assert not keys & {r.key for r in exchange.export_rows(locale())}
    assert {r.key for r in exchange.export_rows(locale(), everything=True)} >= keys


def test_reimporting_the_same_file_changes_nothing(qaa_app):
    rows = fill(exchange.content_rows(locale())[:3], {r.key for r in
                                                      exchange.content_rows(locale())[:3]})
    exchange.apply(locale(), rows)
    db.session.commit()
    before = count(AuditEvent)
    result = exchange.apply(locale(), rows)
    assert (result.changed, result.unchanged, count(AuditEvent)) == (0, 3, before)


def test_empty_translations_stay_untranslated(qaa_app):
    rows = exchange.export_rows(locale())[:5]
    result = exchange.apply(locale(), rows)
    assert (result.changed, result.empty) == (0, 5)
    assert count(ContentTranslation) + count(InterfaceTranslation) == 0


def test_outdated_translations_are_exported_again_and_counted(qaa_app):
    thai = ethnic("03")
    key = f"ethnic_groups:{thai.id}:name"
    exchange.apply(locale(), fill(exchange.content_rows(locale()), {key}))
    thai.name = "Thái (tên mới)"
    db.session.commit()
    assert key in {r.key for r in exchange.content_rows(locale())}
    counts = coverage.content_counts([locale()])[TEST_TAG]
    assert (counts.done, counts.outdated) == (0, 1)


# --- refused imports ------------------------------------------------------------------------

def _content_row(**changes):
    thai = ethnic("03")
    values = {"kind": "content", "key": f"ethnic_groups:{thai.id}:name", "source_vi": "Thái",
              "translation": "QAA-TEST ok", "line": 2}
    return exchange.Row(**{**values, **changes})


BAD_ROWS = {
    "unknown key": (lambda: _content_row(key="ethnic_groups:999999:name"), "Unknown content"),
    "unknown field": (lambda: _content_row(key="ethnic_groups:1:code"), "Unknown content"),
    "unknown table": (lambda: _content_row(key="users:1:username"), "Unknown content"),
    "unknown msgid": (lambda: exchange.Row("interface", "No such text", "", "", "x", 2),
                      "Unknown interface"),
    "unknown kind": (lambda: _content_row(kind="other"), "Unknown kind"),
    "html": (lambda: _content_row(translation="<b>Thái</b>"), "HTML"),
    "entity": (lambda: _content_row(translation="Th&aacute;i"), "HTML"),
    "placeholder missing": (lambda: exchange.Row("interface", "Line %(line)s: %(message)s", "",
                                                 "", "QAA-TEST %(line)s", 2), "placeholders"),
    "placeholder added": (lambda: _content_row(translation="QAA-TEST %(x)s"), "placeholders"),
    "too long": (lambda: _content_row(translation="x" * 61), "longer than 60"),
    "control character": (lambda: _content_row(translation="a\x07b"), "control"),
    "stale source": (lambda: _content_row(source_vi="Thái cũ"), "has changed"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_bad_row_refuses_the_whole_file(english, case):
    make, message = BAD_ROWS[case]
    good = _content_row(key=f"ethnic_groups:{ethnic('01').id}:name", source_vi="Kinh", line=3)
    with pytest.raises(exchange.ImportRefused) as refused:
        exchange.apply(locale(), [good, make()])
    assert len(refused.value.errors) == 1
    assert refused.value.errors[0].startswith("Line 2: ") and message in refused.value.errors[0]
    assert count(ContentTranslation) + count(InterfaceTranslation) == 0


def test_duplicate_rows_are_refused_with_both_lines(english):
    with pytest.raises(exchange.ImportRefused) as refused:
        exchange.apply(locale(), [_content_row(line=2), _content_row(line=7)])
    assert refused.value.errors == ["Line 7: Same entry as line 2."]


@pytest.mark.parametrize("tag, row, message", [
    ("vi", None, "source language"),
    ("en", exchange.Row("interface", "Sign in", "", "", "Log in", 2), "maintained"),
])
def test_vietnamese_and_english_interface_text_cannot_be_imported(english, tag, row, message):
    with pytest.raises(exchange.ImportRefused) as refused:
        exchange.apply(registry()[tag], [row] if row else [])
    assert message in refused.value.errors[0]


@pytest.mark.parametrize("filename, data, message", [
    ("x.txt", b"kind,key,translation\n", "Only CSV, XLSX or PO"),
    ("x.csv", b"", "empty"),
    ("x.csv", b"kind;key\ncontent;x\n", "columns are missing"),
    ("x.csv", b"\xff\xfe\x00k", "UTF-8"),
    ("x.csv", b'kind,key,translation\ncontent,"x,y\n', "not valid CSV"),
    ("x.xlsx", b"PK not a zip", "XLSX"),
    ("x.po", b"garbage line\n", "not a valid PO"),
    ("x.po", b'msgid ""\nmsgstr "Language: ium\\n"\n\nmsgid "Sign in"\nmsgstr "x"\n',
     "another language"),
    ("x.csv", b"kind,key,source_vi,source_en,translation\n", "no rows"),
])
def test_unreadable_files_are_refused(english, filename, data, message):
    with pytest.raises(exchange.ImportRefused) as refused:
        exchange_formats.read(data, filename, TEST_TAG)
    assert message in refused.value.errors[0]


def test_spreadsheet_formulas_are_defused_and_restored(qaa_app):
    row = exchange.Row("content", "k", "=SUM(A1)", "", "-5 hộ", 2)
    data = exchange_formats.write_csv([row])
    assert b"'=SUM(A1)" in data and b"'-5" in data
    back = exchange_formats.read(data, "x.csv", TEST_TAG)[0]
    assert (back.source_vi, back.translation) == ("=SUM(A1)", "-5 hộ")
    sheet = openpyxl.load_workbook(io.BytesIO(exchange_formats.write_xlsx([row]))).active
    assert sheet["C2"].data_type == "s" and sheet["C2"].value == "=SUM(A1)"

"""Exchange files for translators: CSV (UTF-8, for Excel and LibreOffice), XLSX and PO.

All three carry the same columns: kind, key, source_vi, source_en, translation. In PO,
content keys travel in ``msgctxt`` (``content:indicators:12:name``) with the Vietnamese
text as ``msgid``; interface strings keep their English msgid.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePath

import openpyxl
from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po
from flask_babel import gettext as _

from ..web.spreadsheets import BadWorkbook, xlsx_rows
from .exchange import CONTENT, INTERFACE, ImportRefused, Row
from .locales import catalog_dir
from .message_catalogs import reference

COLUMNS = ("kind", "key", "source_vi", "source_en", "translation")
REQUIRED = ("kind", "key", "translation")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "po": "text/x-gettext-translation; charset=utf-8"}
MAX_ROWS = 50_000
#: Spreadsheets run cells starting with these as formulas (CSV injection).
FORMULA_START = ("=", "+", "-", "@")
CONTEXT = "content:"


def _values(row: Row) -> list[str]:
    return [row.kind, row.key, row.source_vi, row.source_en, row.translation]


# --- writing ------------------------------------------------------------------------------

def _defuse(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def write_csv(rows: list[Row]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([_defuse(v) for v in _values(row)] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(rows: list[Row]) -> bytes:
    book = openpyxl.Workbook(write_only=False)
    sheet = book.active
    sheet.title = "translations"
    sheet.append(COLUMNS)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(_values(row), start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            cell.data_type = "s"  # text, never a formula
    for letter, width in zip("ABCDE", (10, 40, 50, 50, 50), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_po_file(rows: list[Row], tag: str) -> bytes:
    catalog = Catalog(locale=catalog_dir(tag), project="dantoc", fuzzy=False, charset="utf-8")
    plural = reference().plural
    for row in rows:
        if row.kind == CONTENT:
            catalog.add(row.source_vi, row.translation, context=CONTEXT + row.key,
                        auto_comments=[f"en: {row.source_en}"] if row.source_en else [])
        elif row.key in plural:
            catalog.add((row.key, row.key), (row.translation, row.translation),
                        auto_comments=[f"vi: {row.source_vi}"])
        else:
            catalog.add(row.key, row.translation, auto_comments=[f"vi: {row.source_vi}"])
    out = io.BytesIO()
    write_po(out, catalog, width=0)
    return out.getvalue()


def write(rows: list[Row], fmt: str, tag: str) -> bytes:
    if fmt == "csv":
        return write_csv(rows)
    if fmt == "xlsx":
        return write_xlsx(rows)
    return write_po_file(rows, tag)


# --- reading ------------------------------------------------------------------------------

def _refuse(message: str) -> ImportRefused:
    return ImportRefused([message])


def _undefuse(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def _table_rows(header: list[str], records) -> list[Row]:
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise _refuse(_("These columns are missing: %(names)s.", names=", ".join(missing)))
    index = {name: names.index(name) for name in COLUMNS if name in names}
    rows = []
    for line, cells in records:
        if not any(str(c or "").strip() for c in cells):
            continue
        values = {name: _undefuse(str(cells[i] or "")) if i < len(cells) else ""
                  for name, i in index.items()}
        rows.append(Row(values["kind"].strip(), values["key"].strip(),
                        values.get("source_vi", ""), values.get("source_en", ""),
                        values["translation"], line))
        if len(rows) > MAX_ROWS:
            raise _refuse(_("The file has more than %(max)s rows; split it into smaller "
                            "files.", max=MAX_ROWS))
    return rows


def read_csv(data: bytes) -> list[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(_("The file is not UTF-8 text. Save it as \"CSV UTF-8\".")) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records, start = [], 1
    try:
        header = next(reader, [])
        start = reader.line_num + 1
        for cells in reader:
            records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error:
        raise _refuse(_("Line %(line)s: %(message)s", line=start, message=_(
            "This line is not valid CSV (check the quotes)."))) from None
    return _table_rows(header, records)


def read_xlsx(data: bytes) -> list[Row]:
    try:
        lines = iter(xlsx_rows(data, MAX_ROWS + 2))  # the header, and one row too many
    except BadWorkbook:
        raise _refuse(_("The file is not a valid XLSX workbook.")) from None
    header = [str(c or "") for c in next(lines, ())]
    records = list(zip(range(2, MAX_ROWS + 3), lines, strict=False))
    return _table_rows(header, records)


def read_po_file(data: bytes, tag: str) -> list[Row]:
    try:
        catalog = read_po(io.BytesIO(data), locale=None, abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError):
        raise _refuse(_("The file is not a valid PO file.")) from None
    language = catalog.locale_identifier
    if language and language != catalog_dir(tag):
        raise _refuse(_("This file is for another language (%(language)s).",
                        language=language))
    rows = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id[0] if message.pluralizable else message.id
        text = message.string[0] if message.pluralizable else message.string
        text = "" if message.fuzzy else (text or "")
        context = message.context or ""
        if context.startswith(CONTEXT):
            rows.append(Row(CONTENT, context[len(CONTEXT):], msgid, "", text, message.lineno))
        else:
            rows.append(Row(INTERFACE, msgid, "", msgid, text, message.lineno))
    return rows


def read(data: bytes, filename: str, tag: str) -> list[Row]:
    """The rows of an uploaded exchange file.

    :raise ImportRefused: for another file type or an unreadable or empty file.
    """
    suffix = PurePath(filename or "").suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise _refuse(_("Only CSV, XLSX or PO files can be imported."))
    if not data.strip():
        raise _refuse(_("The file is empty."))
    if suffix == "po":
        rows = read_po_file(data, tag)
    else:
        rows = read_csv(data) if suffix == "csv" else read_xlsx(data)
    if not rows:
        raise _refuse(_("The file has no rows."))
    return rows

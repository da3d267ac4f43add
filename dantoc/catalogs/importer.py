"""Import a catalog from a CSV or XLSX file: every row is checked, then all are written, or none.

Pass 1 reads the file and checks each row on its own (columns, dates, codes, duplicates).
Pass 2 applies the rows through the services inside a SAVEPOINT, so the rules that need the
database (parents, overlapping dates, …) are checked too and a failure anywhere, including a
database refusal, rolls every row back. Errors carry the line (row 1 is the header) and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _

from ..audit import services as audit
from ..extensions import db
from ..refusal import Refusal
from ..web.spreadsheets import BadWorkbook, xlsx_rows
from .import_kinds import KINDS, ImportRefused, NumberText, RowError

__all__ = ["KINDS", "MAX_ROWS", "ImportRefused", "ImportResult", "RowError", "import_file"]

MAX_ROWS = 20_000
#: A refusal lists this many errors at most; the rest are counted.
MAX_ERRORS = 200


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _refuse(message, line: int | None = None, column: str | None = None) -> ImportRefused:
    return ImportRefused([RowError(line, column, message)])


def import_file(kind: str, stream: IO[bytes], filename: str, *, actor: Any = None,
                progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import ``stream`` (a CSV or XLSX file) as catalog ``kind``: all rows or none.

    :param kind: ``units``, ``ethnic_groups`` or ``religions``.
    :param actor: who imports, for the audit (the signed-in user when None).
    :param progress: told ``(rows applied, rows)`` as the rows are written (a background
        job's progress bar, dantoc/jobs/).
    :raise ImportRefused: with line-numbered errors; nothing was written.
    """
    spec = KINDS[kind]
    header, lines = read_table(stream.read(), filename)
    columns = spec.check_header(header)
    parsed, errors = spec.parse_all(columns, lines)
    if errors:
        raise ImportRefused(errors[:MAX_ERRORS])
    created, updated = _apply(spec, parsed, columns, progress or _ignore)
    audit.record("catalog.import", actor=actor,
                 after={"kind": kind, "file": PurePath(filename).name[:100],
                        "created": created, "updated": updated})
    return ImportResult(created, updated)


def _ignore(done: int, total: int) -> None:
    return None


def _apply(spec, parsed: list[tuple[int, dict]], columns: list[str],
           progress: Callable[[int, int], None]) -> tuple[int, int]:
    errors: list[RowError] = []
    counts, memo = [0, 0], {}
    total = len(parsed)
    with db.session.begin_nested() as savepoint:
        spec.prepare(parsed, memo)
        progress(0, total)
        for done, (line, values) in enumerate(parsed, start=1):
            progress(done - 1, total)
            memo["line"] = line
            try:
                counts[0 if spec.apply(values, memo) else 1] += 1
            except Refusal as error:  # a refused input, or a record of the centre
                field = error.field if error.field in columns else None
                errors.append(RowError(line, field, str(error)))
            except sa.exc.DBAPIError:
                savepoint.rollback()
                raise _refuse(_("The database refused this row; nothing was imported."),
                              line) from None
        if not errors:
            errors += [RowError(line, e.field if e.field in columns else None, e.message)
                       for line, e in spec.finish(memo)]
        if errors:
            savepoint.rollback()
            raise ImportRefused(errors[:MAX_ERRORS])
    return counts[0], counts[1]


# Reading ------------------------------------------------------------------------------------

def read_table(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header and the non-blank rows (with their line numbers) of a CSV or XLSX file.

    :raise ImportRefused: for another file type, an unreadable or empty file, too many rows.
    """
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise _refuse(_("Only CSV or XLSX files can be imported."))
    if not data.strip():
        raise _refuse(_("The file is empty."))
    rows = _csv_rows(data) if suffix == ".csv" else _xlsx_rows(data)
    header, lines = None, []
    for number, cells in enumerate(rows, start=1):
        if header is None:
            header = [str(c).strip() for c in cells]
            continue
        if any(str(c).strip() for c in cells):
            lines.append((number, cells))
            if len(lines) > MAX_ROWS:
                raise _refuse(_("The file has more than %(max)s rows; split it into smaller "
                                "files.", max=f"{MAX_ROWS:,}"))
    if not header or not any(header):
        raise _refuse(_("The file is empty."))
    if not lines:
        raise _refuse(_("The file has a header but no rows."))
    return header, lines


def _csv_rows(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(_("The file is not UTF-8 text. Save it as \"CSV UTF-8\".")) from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for number, row in enumerate(reader, start=1):  # noqa: B007 (read after the loop)
            yield row
    except csv.Error:
        raise _refuse(_("This line is not valid CSV (check the quotes)."), number + 1) from None


def _xlsx_rows(data: bytes):
    try:
        rows = xlsx_rows(data, MAX_ROWS + 2)  # the header, and one row too many to refuse
    except BadWorkbook:
        raise _refuse(_("The file is not a valid XLSX workbook.")) from None
    for row in rows:
        yield [_cell_text(value) for value in row]


def _cell_text(value: Any) -> str:
    """Cell value as text; numbers are marked so code columns can refuse them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return NumberText(int(value) if float(value).is_integer() else value)
    return str(value).strip()

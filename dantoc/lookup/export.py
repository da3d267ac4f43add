"""The lookup's table as CSV and XLSX: exactly the cells and totals on the screen."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
from flask_babel import gettext as _
from openpyxl.styles import Font

from ..indicators import descriptions
from ..submissions.forms import plain
from .query import REFUSED, Table


def _header(table: Table) -> list[str]:
    corner = _("Indicator") if table.swapped else _("Unit · period")
    columns = [f"{c.label} ({c.unit})" if c.unit else c.label for c in table.columns]
    return [corner, *columns, *([_("Total")] if table.swapped else [])]


def _figure(value, flag):
    """A figure, or the words saying it cannot be re-based (never a wrong number)."""
    return _("cannot be re-based") if flag == REFUSED else value


def _lines(table: Table):
    yield _header(table)
    for row in table.rows:
        label = f"{row.label} ({row.unit})" if row.unit else row.label
        cells = [_figure(table.cell(row, c), table.flag(row, c)) for c in table.columns]
        total = _figure(table.totals.get(row.key), table.total_flags.get(row.key))
        yield [label, *cells, *([total] if table.swapped else [])]
    if not table.swapped:
        yield [_("Total"), *(_figure(table.totals.get(c.key), table.total_flags.get(c.key))
                             for c in table.columns)]
    if table.estimated:
        yield [_("Some figures are estimated: a split unit's sums apportioned by its share.")]


def _told(lines, progress):
    """The lines, telling ``progress(done, total)`` every 200 lines (background exports)."""
    for number, line in enumerate(lines, start=1):
        yield line
        if progress is not None and number % 200 == 0:
            progress(number)


def to_csv(table: Table, progress=None) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Vietnamese letters right."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in _told(_lines(table), progress):
        writer.writerow(["" if v is None else (plain(v) if isinstance(v, Decimal) else v)
                         for v in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, title: str, indicators=(), progress=None) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = _("Lookup")[:31]
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    for line in _told(_lines(table), progress):
        ws.append([float(v) if isinstance(v, Decimal) else v for v in line])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 40
    ws.freeze_panes = "B3"
    descriptions.add_sheet(book, indicators)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

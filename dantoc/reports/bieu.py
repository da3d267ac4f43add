"""The official biểu of an approved unit report (issue #11 item 4): XLSX and A4 print.

The layout follows the statistical report forms of the field: the reporting unit's biểu
number and legal basis on the left, the national heading (Cộng hòa xã hội chủ nghĩa Việt Nam,
Độc lập - Tự do - Hạnh phúc) on the right, the report's name and period, then one row per
unit directly below (communes of the province, or villages of a commune) and one column per
indicator and breakdown, labelled in words ("Số nhân khẩu – Thái – Nữ") with its unit of
measure; the last row is the report's total, the very figures of the report page; the place
and date and the two signature blocks (Người lập biểu, Thủ trưởng đơn vị) close it.

The rows come from the report's public pieces: :func:`aggregate.compute` of each unit below
(its own approved report), or, for a commune's villages, the approved versions the report
counted (:func:`aggregate.sources`).
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
import sqlalchemy as sa
from flask_babel import gettext as _
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from .. import clock
from ..extensions import db
from ..i18n.content import tr
from ..i18n.formatting import format_period
from ..indicators import descriptions, visibility
from ..submissions import formbuilder
from ..submissions.models import Submission, SubmissionValue, SubmissionVersion
from . import aggregate, queries
from .aggregate import Aggregate
from .models import UnitReport
from .queries import Target

NUMBERS = ("integer", "decimal", "percent", "yes_no")
#: The national heading of official documents (Nghị định 30/2020/NĐ-CP): fixed legal text,
#: printed in Vietnamese whatever the interface language.
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
#: The letters of the first two columns in the column-number row of a statistical biểu.
COLUMN_LETTERS = ("A", "B")


@dataclass(frozen=True)
class Column:
    indicator_id: int
    key: str
    label: str
    unit: str


@dataclass
class Row:
    label: str
    values: dict[tuple[int, str], Decimal | int | None]


@dataclass
class Bieu:
    """What the biểu shows, for the XLSX and the print page alike."""

    report: UnitReport
    target: Target
    columns: list[Column]
    rows: list[Row]
    total: Row
    receiver: str
    skipped: list[str]
    indicators: list = field(default_factory=list)


def _columns(total: Aggregate) -> list[Column]:
    columns = []
    for figure in total.figures:
        indicator = figure.indicator
        if indicator.value_type not in NUMBERS or isinstance(figure.value, dict):
            continue
        item = formbuilder.ItemSpec(indicator, "", formbuilder.dims_of(indicator))
        words = formbuilder.cell_label(item, figure.key)
        name = tr(indicator, "name")
        columns.append(Column(indicator.id, figure.key, f"{name} – {words}" if words else name,
                              tr(indicator, "unit_of_measure") if indicator.unit_of_measure
                              else ""))
    return columns


def _values(agg: Aggregate) -> dict[tuple[int, str], Decimal | int | None]:
    return {(f.indicator.id, f.key): f.value for f in agg.figures
            if not isinstance(f.value, dict)}


def _village_rows(t: Target, report: UnitReport, total: Aggregate,
                  indicators: sa.Select | None = None) -> dict[int, dict]:
    """unit id → figures, for the villages a commune report counted (their own values, of
    ``indicators`` only when given)."""
    versions = {s.submission_id: s.version for s in total.sources if s.via is None}
    if not versions:
        return {}
    rows = db.session.execute(
        sa.select(Submission.unit_id, SubmissionVersion.submission_id, SubmissionVersion.number,
                  SubmissionValue)
        .join(SubmissionVersion, SubmissionValue.version_id == SubmissionVersion.id)
        .join(Submission, SubmissionVersion.submission_id == Submission.id)
        .where(SubmissionVersion.submission_id.in_(sorted(versions)),
               visibility.restrict(SubmissionValue.indicator_id, indicators)))
    found: dict[int, dict] = defaultdict(dict)
    for unit_id, submission_id, number, value in rows:
        if versions.get(submission_id) != number:
            continue
        v = value.value
        found[unit_id][(value.indicator_id, value.disaggregation)] = (
            int(v) if isinstance(v, bool) else v)
    return found


def size(children) -> int:
    """The biểu's cost in units computed one by one: the units below with their own report
    (a province's communes), each an aggregation; villages cost nothing here, their values
    come in one query whatever their number. What decides whether its XLSX is made in the
    request or as a background job (known before anything is computed)."""
    return sum(1 for child in children if not child.is_village)


def size_of(report: UnitReport) -> int:
    return size(queries.child_states(queries.target_of(report)))


def build(report: UnitReport, user=None, progress=None) -> Bieu:
    """The biểu of ``report`` (the caller checked that it is approved and may be exported),
    with the indicators ``user`` sees (a department's officer: their groups');
    ``progress(done, total)`` is told after each unit below."""
    t = queries.target_of(report)
    indicators = visibility.visible_indicators(user)
    # The rows of the units below come with the total, from the same statements.
    total = aggregate.compute(t, report, indicators, split=True)
    columns = _columns(total)
    rows = []
    villages = _village_rows(t, report, total, indicators)
    children = queries.child_states(t)
    for number, child in enumerate(children, start=1):
        if child.is_village:
            values = villages.get(child.unit.id, {})
        elif child.approved:
            values = {k: v for k, v in total.below.get(child.unit.id, {}).items()
                      if not isinstance(v, dict)}
        else:
            values = {}
        rows.append(Row(tr(child.unit, "name"), values))
        if progress is not None:
            progress(number, len(children))
    receiver = tr(t.unit.parent, "name") if t.unit.parent else _("Ministry of Ethnic and "
                                                                 "Religious Affairs")
    skipped = sorted({tr(f.indicator, "name") for f in total.figures
                      if isinstance(f.value, dict)} | {tr(i, "name")
                                                        for i in total.not_aggregated})
    shown = list({f.indicator.id: f.indicator for f in total.figures}.values())
    return Bieu(report, t, columns, rows, Row(_("Total"), _values(total)), receiver, skipped,
                shown)


# -- XLSX ------------------------------------------------------------------------------------

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="center", horizontal="center")


def _number(value):
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


def to_xlsx(bieu: Bieu) -> bytes:
    """The biểu as an XLSX workbook in the regulation's layout."""
    t = bieu.target
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = (t.form.code or "Bieu")[:31]
    width = 2 + len(bieu.columns)
    right = max(width - 2, 3)
    ws.cell(1, 1, _("Form No.: %(code)s", code=t.form.code)).font = _BOLD
    if t.form.legal_basis:
        ws.cell(2, 1, t.form.legal_basis)
    ws.cell(1, right, NATION).font = _BOLD
    ws.cell(2, right, MOTTO).font = _BOLD
    ws.cell(3, right, _("Reporting unit: %(unit)s", unit=tr(t.unit, "name")))
    ws.cell(4, right, _("Receiving unit: %(unit)s", unit=bieu.receiver))
    ws.cell(6, 1, tr(t.form, "name").upper()).font = Font(bold=True, size=14)
    ws.cell(7, 1, _("Reporting period: %(period)s", period=format_period(t.period)))
    ws.merge_cells(start_row=6, start_column=1, end_row=6, end_column=width)
    ws.merge_cells(start_row=7, start_column=1, end_row=7, end_column=width)
    ws.cell(6, 1).alignment = ws.cell(7, 1).alignment = Alignment(horizontal="center")
    head = 9
    ws.cell(head, 1, _("No.")), ws.cell(head, 2, _("Unit"))
    ws.cell(head + 1, 1, COLUMN_LETTERS[0]), ws.cell(head + 1, 2, COLUMN_LETTERS[1])
    for index, column in enumerate(bieu.columns, start=3):
        ws.cell(head, index, column.label)
        ws.cell(head + 1, index, column.unit or "")
        ws.column_dimensions[get_column_letter(index)].width = 16
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 30
    row = head + 2
    for number, data in enumerate(bieu.rows, start=1):
        ws.cell(row, 1, number)
        ws.cell(row, 2, data.label)
        for index, column in enumerate(bieu.columns, start=3):
            ws.cell(row, index, _number(data.values.get((column.indicator_id, column.key))))
        row += 1
    ws.cell(row, 2, bieu.total.label).font = _BOLD
    for index, column in enumerate(bieu.columns, start=3):
        cell = ws.cell(row, index, _number(bieu.total.values.get((column.indicator_id,
                                                                   column.key))))
        cell.font = _BOLD
    for r in ws.iter_rows(min_row=head, max_row=row, max_col=width):
        for cell in r:
            cell.border = _BOX
            if cell.row <= head + 1:
                cell.font, cell.alignment = _BOLD, _WRAP
    today = clock.today()
    place = row + 2
    ws.cell(place, right, _("%(place)s, day %(d)s month %(m)s year %(y)s",
                            place=tr(t.unit, "name"), d=f"{today.day:02d}",
                            m=f"{today.month:02d}", y=today.year))
    ws.cell(place + 1, 2, _("Prepared by")).font = _BOLD
    ws.cell(place + 1, right, _("Head of the unit")).font = _BOLD
    ws.cell(place + 2, 2, _("(Signature, full name)"))
    ws.cell(place + 2, right, _("(Signature, full name, seal)"))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.print_title_rows = f"{head}:{head + 1}"
    descriptions.add_sheet(book, bieu.indicators)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

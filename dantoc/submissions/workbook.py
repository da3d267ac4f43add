"""XLSX bulk import of village data (nhập từ tệp, issue #14).

The commune downloads a template for one form, period and commune (:func:`template`), fills
it and uploads it (:func:`read`). Both sides build the same :class:`Layout` from the database,
so every field of every village has one known cell: a form without grids is one row per
village on one sheet; a form with grids (ethnic group × sex) is one sheet per village, with
every ethnic group listed as a row, the commune's own groups first.

An upload is all or nothing. Every cell is read back into the web form's own field names and
checked by the web form's own checks (:class:`~dantoc.submissions.page.Page`), so the file and
the phone cannot disagree; each error names the sheet, row, column and rule. Macros, formulas,
merged cells where a value belongs, another template, a village of another commune: refused
before anything is written. Imported reports are submitted as versions marked ``file``,
reviewed as usual. The UUID of a new report is derived from the village, form, period and the
file's content hash, and an unchanged report is left alone, so uploading the same file again
creates nothing new.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import openpyxl
from flask_babel import gettext as _
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from werkzeug.datastructures import MultiDict

from ..catalogs.models import AdminUnit, fold
from ..catalogs.queries import children
from ..i18n.content import tr
from ..refusal import Refusal
from . import behalf, checks, formbuilder, services, states
from .formbuilder import FormSpec, ItemSpec
from .forms import plain
from .page import Page
from .services import Target

#: Bumped when the layout changes: an old template is refused with a clear message.
TEMPLATE_VERSION = "1"
META_SHEET = "dantoc"
ROW_SHEET = "Số liệu"
#: The largest file read (bytes); larger uploads are refused before openpyxl opens them.
MAX_BYTES = 5 * 1024 * 1024
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_UUID_NAMESPACE = uuid.UUID("5b0b9b7e-6f1c-4c8e-9a55-8d1f3c2a7e10")
_HEADER = Font(bold=True)
_INPUT = PatternFill("solid", fgColor="FFF8E1")


@dataclass
class VillageCells:
    """Where each field of one village lives: field name → (sheet, row, column)."""

    village: AdminUnit
    sheet: str
    cells: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    #: Item name → its first cell, where messages about the whole item are placed.
    anchors: dict[str, tuple[str, int, int]] = field(default_factory=dict)


@dataclass
class Layout:
    """The template of one form version, period and commune."""

    target_version: object
    period: object
    commune: AdminUnit
    spec: FormSpec
    villages: list[VillageCells]
    per_village: bool
    #: Grid item name → its rows (code, label), the same for every village of the commune.
    rows: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class CellError:
    """One refused cell: where, and which rule (in the officer's language)."""

    sheet: str
    row: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        if not self.sheet:  # about the whole file
            return self.message
        if self.row is None:
            return _("Sheet “%(sheet)s”: %(message)s", sheet=self.sheet, message=self.message)
        return _("Sheet “%(sheet)s”, row %(row)s, column %(column)s: %(message)s",
                 sheet=self.sheet, row=self.row, column=get_column_letter(self.column),
                 message=self.message)


class WorkbookRefused(Exception):
    """The upload was refused; nothing was imported."""

    def __init__(self, errors: list[CellError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass
class Imported:
    """What an accepted upload did: new reports (or new versions), and unchanged ones."""

    submitted: list[AdminUnit]
    unchanged: list[AdminUnit]
    digest: str


# -- the layout ------------------------------------------------------------------------------


def _sheet_name(village: AdminUnit, taken: set[str]) -> str:
    base = _SHEET_BAD.sub(" ", tr(village, "name")).strip()[:28] or village.code[:28]
    name, n = base, 2
    while name.lower() in taken or name.lower() in (META_SHEET, ROW_SHEET.lower()):
        name, n = f"{base[:25]} ({n})", n + 1
    taken.add(name.lower())
    return name


def _group_rows(item: ItemSpec, commune_first: list[str]) -> list[tuple[str, str]]:
    """Every option of the grid's row dimension; for ethnic groups the commune's first."""
    options = item.dims[item.row_dim].options
    first = [o for o in options if o[0] in commune_first]
    return first + [o for o in options if o[0] not in commune_first]


def layout(version, period, commune: AdminUnit, day: date) -> Layout:
    """Where every field of every village of ``commune`` goes in the template."""
    spec = formbuilder.load_spec(version)
    villages = [v for v in children(commune, on=day) if v.level_id == version.fill_level_id]
    grid_items = [i for i in spec.items if i.grid]
    result = Layout(version, period, commune, spec, [], bool(grid_items))
    if grid_items:
        seen = behalf.commune_keys(Target(version, villages[0], period)) if villages else {}
        for item in grid_items:
            dim = item.dims[item.row_dim].code
            codes = [formbuilder.parse_key(k).get(dim) for (c, k) in seen
                     if c == item.indicator.code]
            result.rows[item.name] = _group_rows(item, [c for c in codes if c])
    taken: set[str] = set()
    for index, village in enumerate(villages):
        if result.per_village:
            result.villages.append(_village_sheet(result, village, _sheet_name(village, taken)))
        else:
            result.villages.append(_village_row(spec, village, index + 2))
    return result


def _cols(item: ItemSpec) -> list[str]:
    """The grid's column labels, as the page shows them (``Nam``, ``Nữ``)."""
    grid = formbuilder.layout_item(item)
    return [label for _codes, label in grid.cols]


def _village_row(spec: FormSpec, village: AdminUnit, row: int) -> VillageCells:
    """Row layout: A village code, B village name, then one column per field."""
    cells = VillageCells(village, ROW_SHEET)
    for column, item in enumerate(spec.items, start=3):
        cells.cells[item.name] = cells.anchors[item.name] = (ROW_SHEET, row, column)
    return cells


def _village_sheet(lay: Layout, village: AdminUnit, sheet: str) -> VillageCells:
    """Sheet layout: scalars as (label, unit, value) rows, then each grid as a table."""
    cells = VillageCells(village, sheet)
    row = 4
    for item in lay.spec.items:
        if not item.grid:
            cells.cells[item.name] = cells.anchors[item.name] = (sheet, row, 3)
            row += 1
    for item in lay.spec.items:
        if not item.grid:
            continue
        row += 1  # the grid's title
        row += 1  # its column headers
        cells.anchors[item.name] = (sheet, row, 2)
        for code, _label in lay.rows[item.name]:
            for index, _col in enumerate(_cols(item)):
                cells.cells[f"{item.name}_{code}_{index}"] = (sheet, row, 2 + index)
            row += 1
        row += 1
    return cells


# -- the template ----------------------------------------------------------------------------


def _label(item: ItemSpec) -> str:
    ind = item.indicator
    unit = tr(ind, "unit_of_measure") if ind.unit_of_measure else ""
    return f"{tr(ind, 'name')} ({unit})" if unit else tr(ind, "name")


def _choices(item: ItemSpec) -> list[str] | None:
    kind = item.indicator.value_type
    if kind == "yes_no":
        return [_("Yes"), _("No")]
    if kind == "choice":
        return [tr(c, "label") for c in item.indicator.choices]
    return None


def _validate(ws, item: ItemSpec, ref: str) -> None:
    """A drop-down list for yes/no and choice cells (Excel and LibreOffice show it)."""
    options = _choices(item)
    if options and sum(len(o) + 1 for o in options) < 250:
        quoted = ",".join(o.replace('"', "'").replace(",", " ") for o in options)
        dv = DataValidation(type="list", formula1=f'"{quoted}"', allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(ref)


def template(lay: Layout) -> bytes:
    """The XLSX the commune fills: input cells shaded, a hidden sheet naming the template."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    if lay.per_village:
        for cells in lay.villages:
            _write_sheet(book.create_sheet(cells.sheet), lay, cells)
    else:
        _write_rows(book.create_sheet(ROW_SHEET), lay)
    meta = book.create_sheet(META_SHEET)
    for row in (("template", TEMPLATE_VERSION), ("form", lay.target_version.form.code),
                ("version", lay.target_version.number), ("period", lay.period.code),
                ("commune", lay.commune.code)):
        meta.append(row)
    for cells in lay.villages:
        meta.append(("village", cells.village.code, cells.sheet))
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _title(ws, lay: Layout, what: str) -> None:
    ws["A1"] = f"{tr(lay.target_version.form, 'name')} · {what}"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = lay.period.name


def _write_rows(ws, lay: Layout) -> None:
    """Row 1 the headers, then one row per village (the layout's rows)."""
    headers = [_("Village code"), _("Village"), *(_label(i) for i in lay.spec.items)]
    for column, text in enumerate(headers, start=1):
        ws.cell(1, column, text).font = _HEADER
        ws.column_dimensions[get_column_letter(column)].width = 14 if column > 2 else 24
    for cells in lay.villages:
        _sheet, row, _column = next(iter(cells.cells.values()))
        ws.cell(row, 1, cells.village.code)
        ws.cell(row, 2, tr(cells.village, "name"))
        for _s, r, c in cells.cells.values():
            ws.cell(r, c).fill = _INPUT
    last = max(1 + len(lay.villages), 2)
    for column, item in enumerate(lay.spec.items, start=3):
        letter = get_column_letter(column)
        _validate(ws, item, f"{letter}2:{letter}{last}")
    ws.freeze_panes = "C2"


def _write_sheet(ws, lay: Layout, cells: VillageCells) -> None:
    _title(ws, lay, tr(cells.village, "name"))
    ws.cell(3, 1, _("Indicator")).font = _HEADER
    ws.cell(3, 3, _("Value")).font = _HEADER
    ws.column_dimensions["A"].width = 48
    for letter in "BCDEFG":
        ws.column_dimensions[letter].width = 14
    for item in lay.spec.items:
        if item.grid:
            continue
        _s, row, column = cells.cells[item.name]
        ws.cell(row, 1, _label(item))
        ws.cell(row, column).fill = _INPUT
        _validate(ws, item, f"{get_column_letter(column)}{row}")
    for item in lay.spec.items:
        if not item.grid:
            continue
        _s, first, _c = cells.anchors[item.name]
        ws.cell(first - 2, 1, _label(item)).font = _HEADER
        for index, label in enumerate(_cols(item)):
            ws.cell(first - 1, 2 + index, label).font = _HEADER
        for offset, (_code, label) in enumerate(lay.rows[item.name]):
            ws.cell(first + offset, 1, label)
            for index in range(len(_cols(item))):
                ws.cell(first + offset, 2 + index).fill = _INPUT


# -- the upload ------------------------------------------------------------------------------


def _refuse(sheet: str, message: str, row: int | None = None,
            column: int | None = None) -> WorkbookRefused:
    return WorkbookRefused([CellError(sheet, row, column, message)])


def _open(data: bytes):
    """The workbook of an upload, or a clear refusal (not a spreadsheet, macros, too big)."""
    if len(data) > MAX_BYTES:
        raise _refuse("", _("The file is larger than %(mb)s MB.", mb=MAX_BYTES // 2**20))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if sum(i.file_size for i in archive.infolist()) > 20 * MAX_BYTES:
                raise _refuse("", _("The file is not a valid XLSX workbook."))
    except zipfile.BadZipFile:
        raise _refuse("", _("The file is not a valid XLSX workbook.")) from None
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _refuse("", _("The file contains macros. Save it as an .xlsx workbook "
                             "without macros and upload it again."))
    try:
        return openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception:  # openpyxl raises many types for broken files; none is a 500
        raise _refuse("", _("The file is not a valid XLSX workbook.")) from None


def _meta(book) -> dict:
    if META_SHEET not in book.sheetnames:
        raise _refuse("", _("This file was not made from this site's template: download "
                             "the template for this form and period and fill it."))
    meta: dict = {"village": {}}
    for row in book[META_SHEET].iter_rows(values_only=True):
        if not row or row[0] is None:
            continue
        if row[0] == "village" and len(row) >= 3:
            meta["village"][str(row[2])] = str(row[1])
        else:
            meta[str(row[0])] = "" if row[1] is None else str(row[1])
    return meta


def _check_meta(meta: dict, lay: Layout) -> None:
    expected = {"template": TEMPLATE_VERSION, "form": lay.target_version.form.code,
                "version": str(lay.target_version.number), "period": lay.period.code,
                "commune": lay.commune.code}
    if any(meta.get(k) != v for k, v in expected.items()):
        raise _refuse("", _("This template is for another form, version, period or commune, "
                             "or an older template: download the template again."))


def _text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return plain(Decimal(repr(value)))
    return str(value).strip()


def _coded(item: ItemSpec, text: str) -> str:
    """A yes/no or choice cell as the web form's value (its label or its code)."""
    if not text:
        return ""
    kind = item.indicator.value_type
    if kind == "yes_no":
        words = {fold(_("Yes")): "1", fold(_("No")): "0", "co": "1", "khong": "0",
                 "1": "1", "0": "0", "x": "1"}
        return words.get(fold(text), text)
    if kind == "choice":
        for choice in item.indicator.choices:
            if fold(text) in (fold(tr(choice, "label")), fold(choice.label), fold(choice.code)):
                return choice.code
    return text


def _merged_at(ws, row: int, column: int) -> bool:
    return any(r.min_row <= row <= r.max_row and r.min_col <= column <= r.max_col
               and (r.min_row, r.min_col) != (r.max_row, r.max_col) for r in ws.merged_cells.ranges)


def _read_village(book, lay: Layout, cells: VillageCells,
                  errors: list[CellError]) -> MultiDict | None:
    """The village's cells as web-form data; None when the village left everything empty."""
    data = MultiDict()
    items = {i.name: i for i in lay.spec.items}
    filled = False
    for name, (sheet, row, column) in cells.cells.items():
        ws = book[sheet]
        cell = ws.cell(row, column)
        if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
            errors.append(CellError(sheet, row, column, _("a formula: type the number itself.")))
            continue
        if _merged_at(ws, row, column):
            errors.append(CellError(sheet, row, column, _("merged cells: unmerge them and type "
                                                          "one value per cell.")))
            continue
        text = _text(cell)
        if not text:
            continue
        filled = True
        item = items.get(name) or items[name.rsplit("_", 2)[0]]
        data[name] = _coded(item, text) if not item.grid else text
    return data if filled else None


def _check_rows(book, lay: Layout, errors: list[CellError]) -> None:
    """Row layout: every row names a village of this commune, in the template's place."""
    ws = book[ROW_SHEET]
    expected = {row: cells.village.code for cells in lay.villages
                for (_s, row, _c) in [next(iter(cells.cells.values()))]}
    for row in range(2, ws.max_row + 1):
        code = _text(ws.cell(row, 1))
        others = any(_text(ws.cell(row, c)) for c in range(3, 3 + len(lay.spec.items)))
        if row in expected and code != expected[row]:
            errors.append(CellError(ROW_SHEET, row, 1, _(
                "the village code must stay %(code)s (rows cannot be moved or added).",
                code=expected[row])))
        elif row not in expected and (code or others):
            errors.append(CellError(ROW_SHEET, row, 1, _(
                "%(code)s is not a village of this commune in the template.", code=code or "—")))


def _check_sheets(book, lay: Layout, meta: dict, errors: list[CellError]) -> None:
    for cells in lay.villages:
        if cells.sheet not in book.sheetnames or meta["village"].get(cells.sheet) != \
                cells.village.code:
            errors.append(CellError(cells.sheet, None, None, _(
                "the sheet of this village is missing or renamed: download the template "
                "again.")))
    known = {c.sheet for c in lay.villages} | {META_SHEET}
    for name in book.sheetnames:
        if name not in known:
            errors.append(CellError(name, None, None, _(
                "this sheet is not a village of this commune in the template.")))


def _page_errors(page: Page, cells: VillageCells, errors: list[CellError]) -> None:
    """The web form's messages, each at its cell (a whole-item rule at the item's first)."""
    placed = set()
    for name, place in cells.cells.items():
        field_ = page.form._fields.get(name)
        for message in (field_.errors if field_ is not None else []):
            errors.append(CellError(*place, str(message)))
            placed.add(str(message))
    for name, messages in page.checks.messages.items():
        place = cells.anchors.get(name) or (cells.sheet, None, None)
        for message in messages:
            if message.error and message.text not in placed:  # a rule on two items: once
                errors.append(CellError(*place, message.text))
                placed.add(message.text)


def read(data: bytes, lay: Layout, day: date) -> list[tuple[VillageCells, Page]]:
    """Every filled village's page, checked; :raise WorkbookRefused: with every error."""
    book = _open(data)
    meta = _meta(book)
    _check_meta(meta, lay)
    errors: list[CellError] = []
    if lay.per_village:
        _check_sheets(book, lay, meta, errors)
    elif ROW_SHEET not in book.sheetnames:
        errors.append(CellError(ROW_SHEET, None, None, _("the sheet is missing.")))
    else:
        _check_rows(book, lay, errors)
    if errors:
        raise WorkbookRefused(errors)
    pages = []
    for cells in lay.villages:
        formdata = _read_village(book, lay, cells, errors)
        if formdata is None:
            continue
        target = Target(lay.target_version, cells.village, lay.period)
        formdata.update({"action": "submit", "uuid": str(uuid.uuid4()), "base_version": "0"})
        page = Page(target, services.find_for(target), formdata)
        _page_errors(page, cells, errors)
        pages.append((cells, page))
    if errors:
        raise WorkbookRefused(errors)
    if not pages:
        raise _refuse("", _("The file has no values: fill the shaded cells."))
    return pages


def import_workbook(data: bytes, lay: Layout, user, day: date) -> Imported:
    """Check every cell, then submit every filled village's report as ``file`` (audited),
    all or nothing: any error and nothing is written. Flushes; the view commits.

    :raise WorkbookRefused: with the errors, each naming its sheet, row and column.
    """
    pages = read(data, lay, day)
    digest = hashlib.sha256(data).hexdigest()
    result = Imported([], [], digest)
    errors: list[CellError] = []
    for cells, page in pages:
        cells_ = checks.cells(page.spec, page.grids, page.form)
        target, submission = page.target, page.submission
        if submission is not None and submission.state in (states.SUBMITTED, states.APPROVED):
            if _same(submission, target, cells_):
                result.unchanged.append(cells.village)
            else:
                errors.append(CellError(cells.sheet, *_first(cells), _(
                    "%(village)s has already sent this report (%(state)s): return it first "
                    "to change it.", village=tr(cells.village, "name"),
                    state=states_label(submission.state))))
            continue
        key = (submission.client_uuid if submission is not None else uuid.uuid5(
            _UUID_NAMESPACE, f"{digest}:{cells.village.id}:{target.form_version.form_id}:"
                             f"{target.period.id}"))
        base = submission.current_version if submission is not None else 0
        try:
            services.submit(target, key, base, page.payload(), cells_, user,
                            source=states.FILE)
        except Refusal as error:
            errors.append(CellError(cells.sheet, *_first(cells), _(
                "%(village)s: the report cannot be changed now (%(code)s).",
                village=tr(cells.village, "name"), code=error.code)))
            continue
        result.submitted.append(cells.village)
    if errors:
        raise WorkbookRefused(errors)
    return result


def _first(cells: VillageCells) -> tuple[int, int]:
    _s, row, column = next(iter(cells.cells.values()))
    return row, column


def _same(submission, target: Target, cells_: list[checks.Cell]) -> bool:
    """Whether the current version holds exactly these values (an unchanged re-upload)."""
    version = services.version_of(submission, submission.current_version)
    base = submission.current_version - 1
    return version is not None and version.content_hash == services.content_hash(
        target, base, cells_)


def states_label(state: str) -> str:
    from .messages import status_labels

    return status_labels().get(state, state)

"""Server-side checks of an entry form: field errors and cross-field rules, per item.

The same function serves the full POST (messages beside the fields), the HTMX validation
fragment and the submit decision, so the browser and the server never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from .formbuilder import FormSpec, Grid, ItemSpec
from .forms import EntryForm


@dataclass(frozen=True)
class Message:
    text: str
    error: bool = True


@dataclass
class Checks:
    """Messages per item name; ``blocking`` is True when the form cannot be submitted."""

    messages: dict[str, list[Message]] = field(default_factory=dict)
    blocking: bool = False
    #: The valid values the checks read (:func:`cells`), for a submit to store; None when
    #: nothing was typed.
    cells: list[Cell] | None = None

    def add(self, name: str, message: Message) -> None:
        bucket = self.messages.setdefault(name, [])
        if message not in bucket:
            bucket.append(message)

    @property
    def count(self) -> int:
        return sum(1 for msgs in self.messages.values() for m in msgs if m.error)


@dataclass(frozen=True)
class Cell:
    """One typed value to store: indicator, disaggregation key and value."""

    item: ItemSpec
    key: str
    value: Decimal | str | bool


def _scalar_value(item: ItemSpec, form: EntryForm):
    data = form[item.name].data
    if form[item.name].errors or data in (None, ""):
        return None
    if item.indicator.value_type == "yes_no":
        return data == "1"
    return data


def cells(spec: FormSpec, grids: Mapping[str, Grid], form: EntryForm) -> list[Cell]:
    """Every non-empty valid value of the form, in form order."""
    result = []
    for item in spec.items:
        grid = grids.get(item.name)
        if grid is None:
            value = _scalar_value(item, form)
            if value is not None:
                result.append(Cell(item, "", value))
            continue
        for code, _rl, index, _cl, name in grid.cells():
            cell = form[name]
            if cell.data is not None and not cell.errors:
                result.append(Cell(item, grid.key(code, index), cell.data))
    return result


def rule_values(spec: FormSpec, grids: Mapping[str, Grid], form: EntryForm,
                found: list[Cell] | None = None) -> dict:
    """Indicator code → value for rules; a grid counts as the sum of its cells.
    ``found``: the form's :func:`cells`, when already read."""
    values: dict[str, object] = {}
    for cell in cells(spec, grids, form) if found is None else found:
        code = cell.item.indicator.code
        if cell.key:
            values[code] = values.get(code, Decimal(0)) + cell.value
        else:
            values[code] = cell.value
    return values


def _field_messages(spec: FormSpec, grids: Mapping[str, Grid], form: EntryForm,
                    checks: Checks) -> None:
    for item in spec.items:
        grid = grids.get(item.name)
        if grid is None:
            for error in form[item.name].errors:
                checks.add(item.name, Message(error))
            continue
        for _code, row_label, _i, col_label, name in grid.cells():
            for error in form[name].errors:
                checks.add(item.name, Message(f"{row_label} – {col_label}: {error}"))


def _required_grids(spec: FormSpec, checks: Checks, filled: set[str]) -> None:
    for item in spec.items:
        if item.grid and item.indicator.required and item.name not in filled:
            checks.add(item.name, Message(_("Please fill in at least one row.")))


def evaluate(spec: FormSpec, grids: Mapping[str, Grid], form: EntryForm) -> Checks:
    """Validate the fields, then the cross-field rules; attach messages to their items.
    The valid values are read once, and kept as the checks' ``cells``."""
    form.validate()
    checks = Checks()
    _field_messages(spec, grids, form, checks)
    checks.cells = found = cells(spec, grids, form)
    if form.submitting():
        _required_grids(spec, checks, {c.item.name for c in found})
    rule_errors = _rule_messages(spec, rule_values(spec, grids, form, found), checks)
    field_errors = any(m.error for msgs in checks.messages.values() for m in msgs)
    checks.blocking = field_errors or rule_errors
    return checks


def evaluate_untouched(spec: FormSpec) -> Checks:
    """:func:`evaluate` of a form with nothing typed (a new form opened): no field has a
    message (nothing is required before a submit), so only the rules are evaluated, on no
    values."""
    checks = Checks()
    checks.blocking = _rule_messages(spec, {}, checks)
    return checks


def _rule_messages(spec: FormSpec, values: Mapping[str, object], checks: Checks) -> bool:
    """Add the messages of the rules that fail on ``values``; True when one is an error."""
    by_code = spec.by_code()
    rule_errors = False
    for rule, parsed in spec.rules:
        if parsed.evaluate(values) is False:
            message = Message(rule.message, rule.severity == "error")
            rule_errors = rule_errors or message.error
            for code in parsed.codes:
                if code in by_code:
                    checks.add(by_code[code].name, message)
    return rule_errors


def raw_payload(spec: FormSpec, grids: Mapping[str, Grid], form: EntryForm) -> dict[str, str]:
    """The text of every indicator field as typed (drafts keep invalid input)."""
    names = [item.name for item in spec.items if item.name not in grids]
    names += [cell[4] for grid in grids.values() for cell in grid.cells()]
    payload = {}
    for name in names:
        fld = form[name]
        text = getattr(fld, "raw", None)
        if text is None:
            text = "" if fld.data is None else str(fld.data)
        payload[name] = text[:1000]
    return payload

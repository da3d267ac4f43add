"""Derived indicators (chỉ tiêu tính toán): an indicator defined by a formula over other
indicators of its catalogue version, for example the poor-household rate
``poor_households / households * 100``.

The formula is written in the rule language and parsed by the same hand-written parser
(:func:`dantoc.indicators.rules.parse_formula`; never ``eval``). It is evaluated on the
*aggregated* figures of each unit: a commune's rate is its poor households over its
households, the province's the province's totals' quotient, never an average of village
rates. A missing figure or a division by zero gives no value (shown "—"). A formula may use
another derived indicator; a cycle is refused when the formula is saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from ..extensions import db
from ..refusal import FieldError
from .models import Indicator
from .rules import Formula, RuleError, parse_formula

#: Value types a formula may use, and a derived indicator may have.
NUMERIC_TYPES = ("integer", "decimal", "percent")
#: A derived value is rounded to this (rates in %, to two decimals).
PLACES = Decimal("0.01")


def known_codes(catalogue_version_id: int) -> dict[str, str]:
    """Code → value type of the indicators a formula of this catalogue version may name."""
    rows = db.session.execute(sa.select(Indicator.code, Indicator.value_type).where(
        Indicator.catalogue_version_id == catalogue_version_id))
    return dict(rows.all())


def _formulas(catalogue_version_id: int) -> dict[str, str]:
    """Code → formula of the derived indicators of a catalogue version."""
    return dict(db.session.execute(sa.select(Indicator.code, Indicator.formula).where(
        Indicator.catalogue_version_id == catalogue_version_id,
        Indicator.formula.is_not(None))).tuples().all())


def check(expression: str, *, code: str, catalogue_version_id: int,
          current_code: str | None = None) -> Formula:
    """Parse the formula of the indicator ``code`` and refuse a cycle (itself, directly or
    through other derived indicators).

    :param current_code: the indicator's code before this change (its old formula is
        replaced by this one in the cycle check).
    :raise FieldError: on the ``formula`` field, with the parser's message.
    """
    known = known_codes(catalogue_version_id)
    known.setdefault(code, "decimal")  # a new indicator: its own code is "known" (a cycle)
    try:
        parsed = parse_formula(expression, known)
    except RuleError as error:
        raise FieldError(error.message, "formula") from None
    if any(known.get(c) not in NUMERIC_TYPES for c in parsed.codes):
        bad = next(c for c in parsed.codes if known.get(c) not in NUMERIC_TYPES)
        raise FieldError(_("“%(code)s” is not a number: a formula can only use numbers.",
                           code=bad), "formula")
    formulas = _formulas(catalogue_version_id)
    formulas.pop(current_code or code, None)
    formulas[code] = expression
    if _cycle(code, formulas, known):
        raise FieldError(_("This formula refers back to itself (a cycle), directly or through "
                           "another derived indicator."), "formula")
    return parsed


def _cycle(start: str, formulas: Mapping[str, str], known: Mapping[str, str]) -> bool:
    """Whether following the formulas from ``start`` comes back to it."""
    seen, stack = set(), [start]
    while stack:
        code = stack.pop()
        try:
            uses = parse_formula(formulas[code], known).codes
        except RuleError:
            continue  # an old formula that no longer parses uses nothing
        for used in uses:
            if used == start:
                return True
            if used in formulas and used not in seen:
                seen.add(used)
                stack.append(used)
    return False


@dataclass(frozen=True)
class Plan:
    """How to compute some derived indicators: the entered indicators whose aggregated
    figures they need, and the derived ones in the order to evaluate them (each after the
    derived indicators it uses)."""

    inputs: tuple[Indicator, ...]
    steps: tuple[tuple[Indicator, Formula, dict[str, int]], ...]

    def evaluate(self, figures: Mapping[int, Decimal | None]) -> dict[int, Decimal | None]:
        """Derived indicator id → its value, from ``figures`` (indicator id → the
        aggregated figure of an input, for one unit and period)."""
        values: dict[int, Decimal | None] = dict(figures)
        out = {}
        for indicator, formula, ids in self.steps:
            result = formula.evaluate({code: values.get(i) for code, i in ids.items()})
            result = None if result is None else result.quantize(PLACES)
            values[indicator.id] = out[indicator.id] = result
        return out


def plan(derived: Iterable[Indicator]) -> Plan:
    """The :class:`Plan` of ``derived`` (indicators with a formula), in a few statements."""
    wanted = [i for i in derived if i.formula]
    versions = {i.catalogue_version_id for i in wanted}
    if not versions:
        return Plan((), ())
    everything = {(i.catalogue_version_id, i.code): i for i in db.session.scalars(
        sa.select(Indicator).where(Indicator.catalogue_version_id.in_(sorted(versions))))}
    types = {}
    for (version, code), indicator in everything.items():
        types.setdefault(version, {})[code] = indicator.value_type
    steps: list = []
    inputs: dict[int, Indicator] = {}
    done: set[int] = set()

    def visit(indicator: Indicator, path: frozenset[int]) -> None:
        if indicator.id in done or indicator.id in path:
            return  # done, or a cycle (refused on save; never followed)
        try:
            formula = parse_formula(indicator.formula, types[indicator.catalogue_version_id])
        except RuleError:
            return  # a formula broken since (an indicator renamed): no value
        ids = {}
        for code in formula.codes:
            used = everything.get((indicator.catalogue_version_id, code))
            if used is None:
                continue
            ids[code] = used.id
            if used.formula:
                visit(used, path | {indicator.id})
            else:
                inputs.setdefault(used.id, used)
        done.add(indicator.id)
        steps.append((indicator, formula, ids))

    for indicator in wanted:
        visit(indicator, frozenset())
    return Plan(tuple(inputs.values()), tuple(steps))


def derived_of(indicators: Sequence[Indicator]) -> tuple[list[Indicator], list[Indicator]]:
    """(entered, derived) of ``indicators``, in their order."""
    return ([i for i in indicators if not i.formula], [i for i in indicators if i.formula])

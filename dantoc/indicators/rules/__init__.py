"""Cross-field validation rules over indicator codes, parsed by hand and never ``eval``-ed.

Grammar (lowest precedence first)::

    rule       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)*   # chains: 0 <= a <= b
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | "+" unary | atom
    atom       := NUMBER | "true" | "false" | CODE | FUNC "(" rule ("," rule)* ")" | "(" rule ")"

``FUNC`` is one of ``sum``, ``min``, ``max``, ``abs``; ``CODE`` must be one of the known
indicator codes. Values are Decimals or booleans; a missing value makes the rule
unevaluable (``None``) unless the result is already decided (``false and x`` is false), and
so does a division by zero.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from .nodes import Value, truth
from .parser import Parser
from .tokens import (
    FUNCTIONS,
    KEYWORDS,
    MAX_DEPTH,
    MAX_LENGTH,
    RESERVED,
    RULE_VALUE_TYPES,
    RuleError,
    tokenize,
)

__all__ = ["FUNCTIONS", "KEYWORDS", "MAX_DEPTH", "MAX_LENGTH", "RESERVED", "RULE_VALUE_TYPES",
           "Formula", "Rule", "RuleError", "parse", "parse_formula"]


def _value_kinds(known_codes: Collection[str] | Mapping[str, str]) -> dict[str, str]:
    """Codes → "number" / "bool" / "any" / "none" (not usable), from a code collection or a
    code → indicator value type map."""
    if isinstance(known_codes, Mapping):
        return {code: "bool" if vtype == "yes_no" else "number" if vtype in RULE_VALUE_TYPES
                else "none" for code, vtype in known_codes.items()}
    return dict.fromkeys(known_codes, "any")


@dataclass(frozen=True)
class Rule:
    """A parsed rule; evaluate it as often as needed without parsing again."""

    expression: str
    #: The indicator codes the rule concerns, in order of first appearance.
    codes: tuple[str, ...]
    tree: object

    def evaluate(self, values: Mapping[str, Decimal | int | float | bool | None]) -> bool | None:
        """True / False, or None when a value it needs is missing or it divides by zero."""
        clean = {code: _clean(values.get(code)) for code in self.codes}
        try:
            return truth(self.tree.evaluate(clean))
        except (InvalidOperation, ArithmeticError):
            return None


@dataclass(frozen=True)
class Formula:
    """A parsed arithmetic formula (a derived indicator's); same grammar as a rule, but it
    computes a number."""

    expression: str
    codes: tuple[str, ...]
    tree: object

    def evaluate(self, values: Mapping[str, Decimal | int | float | None]) -> Decimal | None:
        """The number, or None when a value it needs is missing or it divides by zero."""
        clean = {code: _clean(values.get(code)) for code in self.codes}
        try:
            result = self.tree.evaluate(clean)
        except (InvalidOperation, ArithmeticError):
            return None
        if result is None or isinstance(result, bool):
            return None
        return result


def _clean(value) -> Value:
    if value is None or isinstance(value, bool | Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    return None  # text, choices and anything else cannot take part in a rule


def _parser(expression: str, known_codes: Collection[str] | Mapping[str, str], empty,
            too_long) -> Parser:
    """A parser of ``expression``, once it is known to be neither blank (``empty``) nor over
    :data:`MAX_LENGTH` (``too_long``, which takes ``n``): the checks a rule and a formula
    share before their grammars part (lazy: translated only when refused)."""
    if not expression or not expression.strip():
        raise RuleError(str(empty), 0)
    if len(expression) > MAX_LENGTH:
        raise RuleError(str(too_long) % {"n": MAX_LENGTH}, MAX_LENGTH)
    return Parser(tokenize(expression), _value_kinds(known_codes))


def parse(expression: str, known_codes: Collection[str] | Mapping[str, str]) -> Rule:
    """Parse a rule over ``known_codes`` (a collection, or a map code → indicator value type,
    which also lets the parser check that numbers and yes/no values are used correctly).

    :raise RuleError: with a localised message and the position of the problem.
    """
    parser = _parser(expression, known_codes, _l("Enter a rule."),
                     _l("The rule is too long (at most %(n)s characters)."))
    tree = parser.rule()
    return Rule(expression, tuple(parser.codes), tree)


def parse_formula(expression: str, known_codes: Collection[str] | Mapping[str, str]) -> Formula:
    """Parse a derived indicator's formula over ``known_codes`` (as :func:`parse`).

    :raise RuleError: with a localised message and the position of the problem.
    """
    parser = _parser(expression, known_codes, _l("Enter a formula."),
                     _l("The formula is too long (at most %(n)s characters)."))
    tree = parser.formula()
    return Formula(expression, tuple(parser.codes), tree)

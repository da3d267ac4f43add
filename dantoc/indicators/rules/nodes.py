"""The syntax tree of a rule: each node knows its static type and evaluates itself with
three-valued logic (None = unknown)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from .tokens import COMPARE, Value


def _number(value: Value) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(int(value))


def truth(value: Value) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True)
class Const:
    """A number or ``true``/``false`` written in the rule."""

    value: Decimal | bool
    type: str

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        return self.value


@dataclass(frozen=True)
class Ref:
    """An indicator by its code: its value, unknown (None) when not given."""

    code: str
    type: str  # "number", "bool" or "any" when the indicator's type is not known

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        return values.get(self.code)


@dataclass(frozen=True)
class Arith:
    """``a + b``, ``a - b``, ``a * b`` or ``a / b``; unknown if either is, or on division by
    zero."""

    op: str
    left: object
    right: object
    type: str = "number"

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        a, b = _number(self.left.evaluate(values)), _number(self.right.evaluate(values))
        if a is None or b is None:
            return None
        if self.op == "/":
            return None if b == 0 else a / b
        return a + b if self.op == "+" else a - b if self.op == "-" else a * b


#: A unary operator → (its type, how it reads its operand, what it does to a known value).
UNARY: dict[str, tuple[str, Callable[[Value], Value], Callable[[Value], Value]]] = {
    "-": ("number", _number, operator.neg),
    "not": ("bool", truth, operator.not_),
}


@dataclass(frozen=True)
class Unary:
    """``-x`` or ``not x``; unknown stays unknown."""

    op: str
    operand: object

    @property
    def type(self) -> str:
        return UNARY[self.op][0]

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        _type, read, apply = UNARY[self.op]
        value = read(self.operand.evaluate(values))
        return None if value is None else apply(value)


@dataclass(frozen=True)
class Compare:
    """A chain of comparisons (``0 <= a <= b``): each pair compared, the results ANDed."""

    operands: tuple
    ops: tuple
    type: str = "bool"

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        results = []
        for op, (left, right) in zip(self.ops, pairwise(self.operands), strict=True):
            a, b = left.evaluate(values), right.evaluate(values)
            if a is None or b is None:
                results.append(None)
            elif isinstance(a, bool) and isinstance(b, bool):
                results.append(COMPARE[op](a, b))
            else:
                results.append(COMPARE[op](_number(a), _number(b)))
        return _combined(results, winner=False)


def _combined(results: list[bool | None], winner: bool) -> bool | None:
    """Three-valued AND (``winner`` False) or OR (``winner`` True): the winner wins, then
    unknown, else the other value."""
    if any(r is winner for r in results):
        return winner
    return None if any(r is None for r in results) else not winner


@dataclass(frozen=True)
class Logic:
    """``a and b …`` or ``a or b …``, in three-valued logic."""

    op: str  # and / or
    operands: tuple
    type: str = "bool"

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        results = [truth(o.evaluate(values)) for o in self.operands]
        return _combined(results, winner=self.op == "or")


def _sum(args: list[Decimal]) -> Decimal:
    return sum(args, Decimal(0))


FUNCTION_TABLE: dict[str, tuple[Callable[[list[Decimal]], Decimal], int, int | None]] = {
    "sum": (_sum, 1, None), "min": (min, 1, None), "max": (max, 1, None),
    "abs": (lambda args: abs(args[0]), 1, 1),
}


@dataclass(frozen=True)
class Call:
    """A function of :data:`FUNCTION_TABLE` over numbers; unknown if an argument is."""

    name: str
    args: tuple
    type: str = "number"

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        args = [_number(a.evaluate(values)) for a in self.args]
        if any(a is None for a in args):
            return None
        return FUNCTION_TABLE[self.name][0](args)

"""Tokens of a rule expression, and the error every part of the rule parser raises."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _

MAX_LENGTH = 500
MAX_DEPTH = 12
KEYWORDS = frozenset({"and", "or", "not", "true", "false"})
FUNCTIONS = frozenset({"sum", "min", "max", "abs"})
#: Words an indicator code may not be, because rules give them a meaning.
RESERVED = KEYWORDS | FUNCTIONS
#: Indicator value types that rules can read; yes/no values are booleans.
RULE_VALUE_TYPES = frozenset({"integer", "decimal", "percent", "yes_no"})

TOKEN = re.compile(
    r"\s*(?:(?P<number>[0-9]+(?:\.[0-9]+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|[<>+\-*/(),]|[≤≥≠]))"
)
UNICODE_OPS = {"≤": "<=", "≥": ">=", "≠": "!="}
COMPARE = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}
Value = Decimal | bool | None


class RuleError(ValueError):
    """An expression that is not a valid rule; ``position`` is a 0-based character index."""

    def __init__(self, message: str, position: int = 0):
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # number, name, op, end
    text: str
    position: int


def tokenize(expression: str) -> list[Token]:
    """Split an expression into tokens.

    :raise RuleError: on a character that belongs to no token.
    """
    tokens, position = [], 0
    stripped = expression.rstrip()
    while position < len(stripped):
        match = TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            bad = position + len(stripped[position:]) - len(stripped[position:].lstrip())
            raise RuleError(_("Unexpected character “%(char)s” at position %(pos)s.",
                              char=stripped[bad], pos=bad + 1), bad)
        kind = match.lastgroup or "op"
        text = match.group(kind)
        if kind == "number" and len(text) > 24:
            raise RuleError(_("The number at position %(pos)s is too long.",
                              pos=match.start(kind) + 1), match.start(kind))
        tokens.append(Token(kind, UNICODE_OPS.get(text, text), match.start(kind)))
        position = match.end()
    tokens.append(Token("end", "", len(stripped)))
    return tokens

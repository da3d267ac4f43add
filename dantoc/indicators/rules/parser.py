"""The recursive-descent parser; the grammar is in the package docstring."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from itertools import pairwise

from flask_babel import gettext as _

from .nodes import FUNCTION_TABLE, Arith, Call, Compare, Const, Logic, Ref, Unary
from .tokens import COMPARE, FUNCTIONS, KEYWORDS, MAX_DEPTH, RuleError, Token


class Parser:
    """Recursive descent over the token list; see the module docstring for the grammar."""

    def __init__(self, tokens: list[Token], known: Mapping[str, str]):
        self.tokens, self.index, self.depth = tokens, 0, 0
        self.known = known
        self.codes: list[str] = []

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self, text: str) -> bool:
        if self.token.kind in ("op", "name") and self.token.text == text:
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.take(text):
            self.fail(_("Expected “%(text)s” at position %(pos)s.", text=text,
                        pos=self.token.position + 1))

    def fail(self, message: str, token: Token | None = None):
        raise RuleError(message, (token or self.token).position)

    def nested(self, parse: Callable[[], object]) -> object:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(_("The rule is nested too deeply (at most %(n)s levels).", n=MAX_DEPTH))
        try:
            return parse()
        finally:
            self.depth -= 1

    def check(self, node, wanted: str, token: Token):
        if node.type not in (wanted, "any"):
            message = (_("A number is needed at position %(pos)s.", pos=token.position + 1)
                       if wanted == "number" else
                       _("A condition (true / false) is needed at position %(pos)s.",
                         pos=token.position + 1))
            self.fail(message, token)
        return node

    def rule(self):
        start = self.token
        node = self.logic("or", self.conjunction)
        if self.token.kind != "end":
            self.fail(_("Unexpected “%(text)s” at position %(pos)s.", text=self.token.text,
                        pos=self.token.position + 1))
        if node.type == "number":
            self.fail(_("A rule must be a condition, for example “a <= b”."), start)
        return node

    def formula(self):
        """A derived indicator's formula: an arithmetic expression, not a condition."""
        start = self.token
        node = self.logic("or", self.conjunction)
        if self.token.kind != "end":
            self.fail(_("Unexpected “%(text)s” at position %(pos)s.", text=self.token.text,
                        pos=self.token.position + 1))
        if node.type == "bool":
            self.fail(_("A formula must compute a number, for example "
                        "“poor_households / households * 100”."), start)
        return node

    def logic(self, op: str, operand: Callable[[], object]):
        starts, nodes = [self.token], [operand()]
        while self.take(op):
            starts.append(self.token)
            nodes.append(operand())
        if len(nodes) == 1:
            return nodes[0]
        for node, token in zip(nodes, starts, strict=True):
            self.check(node, "bool", token)
        return Logic(op, tuple(nodes))

    def conjunction(self):
        return self.logic("and", self.negation)

    def negation(self):
        if self.take("not"):
            token = self.token
            return Unary("not", self.check(self.nested(self.negation), "bool", token))
        return self.comparison()

    def comparison(self):
        nodes, ops = [self.additive()], []
        while self.token.kind == "op" and self.token.text in COMPARE:
            ops.append(self.token)
            self.index += 1
            nodes.append(self.additive())
        if not ops:
            return nodes[0]
        for op, (left, right) in zip(ops, pairwise(nodes), strict=True):
            self._check_comparable(op, left, right)
        return Compare(tuple(nodes), tuple(op.text for op in ops))

    def _check_comparable(self, op: Token, left, right) -> None:
        types = {left.type, right.type} - {"any"}
        if len(types) > 1 or ("bool" in types and op.text not in ("==", "!=")):
            self.fail(_("Only numbers can be compared with “%(op)s” (position %(pos)s).",
                        op=op.text, pos=op.position + 1), op)

    def binary(self, ops: tuple[str, ...], operand: Callable[[], object]):
        token = self.token
        node = operand()
        while self.token.kind == "op" and self.token.text in ops:
            op = self.token.text
            self.index += 1
            right_token = self.token
            node = Arith(op, self.check(node, "number", token),
                          self.check(operand(), "number", right_token))
        return node

    def additive(self):
        return self.binary(("+", "-"), self.multiplicative)

    def multiplicative(self):
        return self.binary(("*", "/"), self.unary)

    def unary(self):
        if self.token.kind == "op" and self.token.text in ("-", "+"):
            negate = self.token.text == "-"
            self.index += 1
            token = self.token
            node = self.check(self.nested(self.unary), "number", token)
            return Unary("-", node) if negate else node
        return self.atom()

    def atom(self):
        token = self.token
        if token.kind == "number":
            self.index += 1
            return Const(Decimal(token.text), "number")
        if token.kind == "name":
            return self.name(token)
        if self.take("("):
            node = self.nested(lambda: self.logic("or", self.conjunction))
            self.expect(")")
            return node
        if token.kind == "end":
            self.fail(_("The rule ends too early."))
        self.fail(_("Unexpected “%(text)s” at position %(pos)s.", text=token.text,
                    pos=token.position + 1))
        return None  # unreachable: fail() raises

    def name(self, token: Token):
        self.index += 1
        if token.text in ("true", "false"):
            return Const(token.text == "true", "bool")
        if token.text in FUNCTIONS and self.token.text == "(":
            return self.call(token)
        if token.text in KEYWORDS or token.text in FUNCTIONS:
            self.fail(_("“%(text)s” cannot be used here (position %(pos)s).", text=token.text,
                        pos=token.position + 1), token)
        if token.text not in self.known:
            self.fail(_("Unknown indicator code “%(code)s” at position %(pos)s.",
                        code=token.text[:40], pos=token.position + 1), token)
        if self.known[token.text] == "none":
            self.fail(_("“%(code)s” is a text or choice indicator: rules cannot use it "
                        "(position %(pos)s).", code=token.text, pos=token.position + 1), token)
        if token.text not in self.codes:
            self.codes.append(token.text)
        return Ref(token.text, self.known[token.text])

    def call(self, token: Token):
        self.expect("(")
        args = []
        while True:
            arg_token = self.token
            args.append(self.check(self.nested(lambda: self.logic("or", self.conjunction)),
                                   "number", arg_token))
            if not self.take(","):
                break
        self.expect(")")
        low, high = FUNCTION_TABLE[token.text][1:]
        if len(args) < low or (high is not None and len(args) > high):
            self.fail(_("Wrong number of values for “%(name)s” (position %(pos)s).",
                        name=token.text, pos=token.position + 1), token)
        return Call(token.text, tuple(args))

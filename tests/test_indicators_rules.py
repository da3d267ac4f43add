"""The rule parser: what it accepts, how it evaluates, and everything it refuses."""

from decimal import Decimal

import pytest

from dantoc.indicators.rules import MAX_DEPTH, MAX_LENGTH, RuleError, parse

CODES = {"households": "integer", "poor": "integer", "near_poor": "integer",
         "power": "integer", "distance": "decimal", "rate": "percent", "has_school": "yes_no",
         "pupils": "integer", "label": "text"}


@pytest.mark.parametrize("expression, values, expected", [
    ("poor <= households", {"poor": 3, "households": 10}, True),
    ("poor <= households", {"poor": 11, "households": 10}, False),
    ("poor + near_poor <= households", {"poor": 5, "near_poor": 6, "households": 10}, False),
    ("power + 2 == households", {"power": 8, "households": 10}, True),
    ("households - power != 0", {"power": 10, "households": 10}, False),
    ("0 <= poor <= households", {"poor": 4, "households": 10}, True),
    ("0 <= poor <= households", {"poor": -1, "households": 10}, False),
    ("poor * 2 > households / 2", {"poor": 3, "households": 10}, True),
    ("-distance < 0", {"distance": Decimal("2.5")}, True),
    ("distance >= 2.5", {"distance": 2.5}, True),
    ("rate ≤ 100", {"rate": Decimal("99.9")}, True),
    ("(poor + near_poor) * 100 / households < 50", {"poor": 2, "near_poor": 2,
                                                     "households": 10}, True),
    ("not has_school or pupils > 0", {"has_school": True, "pupils": 0}, False),
    ("not has_school or pupils > 0", {"has_school": False, "pupils": None}, True),
    ("has_school == true and pupils >= 1", {"has_school": True, "pupils": 3}, True),
    ("has_school != false", {"has_school": False}, False),
    ("sum(poor, near_poor) <= households", {"poor": 1, "near_poor": 2, "households": 3}, True),
    ("max(poor, near_poor) <= min(households, 5)", {"poor": 6, "near_poor": 2,
                                                    "households": 9}, False),
    ("abs(poor - near_poor) < 3", {"poor": 1, "near_poor": 5}, False),
    ("true", {}, True),
    ("1 + 1 == 2 and not false", {}, True),
])
def test_valid_rules_evaluate(expression, values, expected):
    assert parse(expression, CODES).evaluate(values) is expected


@pytest.mark.parametrize("expression, values, expected", [
    ("poor <= households", {"poor": 3}, None),
    ("poor <= households", {"poor": 3, "households": None}, None),
    ("poor + near_poor <= households", {"poor": 1, "households": 5}, None),
    ("poor / households < 1", {"poor": 1, "households": 0}, None),
    ("poor / (households - power) < 1", {"poor": 1, "households": 4, "power": 4}, None),
    # already decided whatever the missing value is
    ("false and poor > 1", {}, False),
    ("poor > 1 or true", {}, True),
    ("poor > 1 and households > 100", {"households": 5}, False),
    ("0 <= poor <= households", {"poor": -3}, False),
    # a text value cannot take part in a rule
    ("poor <= households", {"poor": "three", "households": 5}, None),
])
def test_missing_values_and_division_by_zero_give_none(expression, values, expected):
    assert parse(expression, CODES).evaluate(values) is expected


def test_codes_in_order_of_first_appearance():
    rule = parse("poor + near_poor <= households and poor >= 0", CODES)
    assert rule.codes == ("poor", "near_poor", "households")


def test_a_plain_code_collection_is_accepted():
    rule = parse("a <= b", ["a", "b"])
    assert rule.evaluate({"a": 1, "b": 2}) is True
    assert rule.evaluate({"a": 1}) is None


@pytest.mark.parametrize("expression, position", [
    ("poor.__class__", 4),
    ("households.__class__.__mro__", 10),
    ("__import__('os').system('id')", 11),
    ("__import__(poor) > 0", 0),
    ("open(poor) > 0", 0),
    ("eval(poor) > 0", 0),
    ("poor[0] > 1", 4),
    ("{poor} > 1", 0),
    ("lambda: poor > 1", 6),
    ("[x for x in poor] > 1", 0),
    ("'poor' == households", 0),
    ('"a" < "b"', 0),
    ("poor ** 2 > 1", 6),
    ("poor = households", 5),
    ("poor; households", 4),
    ("unknown_code > 1", 0),
    ("Poor > 1", 0),
    ("label == 1", 0),
    ("poor < 1 < has_school", 9),
    ("poor + 1", 0),
    ("has_school + 1 > 0", 0),
    ("has_school < 1", 11),
    ("not poor", 4),
    ("poor and households", 0),
    ("poor >", 6),
    ("(poor > 1", 9),
    ("poor > 1)", 8),
    ("sum() > 1", 4),
    ("abs(poor, households) > 1", 0),
    ("sum > 1", 0),
    ("and > 1", 0),
    ("1e9 > poor", 1),
    ("poor > 1234567890123456789012345", 7),
    ("", 0),
    ("   ", 0),
])
def test_rejections_carry_a_message_and_position(expression, position):
    with pytest.raises(RuleError) as refused:
        parse(expression, CODES)
    assert refused.value.message
    assert refused.value.position == position


def test_unknown_code_is_named_in_the_message():
    with pytest.raises(RuleError, match="unknown_code"):
        parse("unknown_code > 1", CODES)


def test_too_long():
    expression = "poor" + " + poor" * (MAX_LENGTH // 7 + 1) + " > 0"
    with pytest.raises(RuleError, match=str(MAX_LENGTH)):
        parse(expression, CODES)


@pytest.mark.parametrize("expression", [
    "(" * (MAX_DEPTH + 1) + "poor > 1" + ")" * (MAX_DEPTH + 1),
    "not " * (MAX_DEPTH + 1) + "has_school",
    "-" * (MAX_DEPTH + 1) + "poor < 0",
    "abs(" * (MAX_DEPTH + 1) + "poor" + ")" * (MAX_DEPTH + 1) + " > 0",
])
def test_too_deep(expression):
    with pytest.raises(RuleError, match=str(MAX_DEPTH)):
        parse(expression, CODES)


def test_just_deep_enough_is_fine():
    depth = MAX_DEPTH - 1
    rule = parse("(" * depth + "poor > 1" + ")" * depth, CODES)
    assert rule.evaluate({"poor": 2}) is True


def test_never_uses_eval(monkeypatch):
    import builtins

    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec/compile called")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, refuse)
    assert parse("poor + near_poor <= households", CODES).evaluate(
        {"poor": 1, "near_poor": 1, "households": 2}) is True

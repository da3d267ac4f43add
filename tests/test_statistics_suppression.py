"""Small-cell suppression: primary "<5", complementary cells so that no published total gives
a small count away, and an attacker's attempts to recover it (subtraction along every line,
then every value consistent with what is published) fail."""

from __future__ import annotations

import csv
import io

import pytest

from dantoc.statistics import suppression
from dantoc.statistics.suppression import PRIMARY, SECONDARY, TOTAL, lines, suppress
from tests.test_reports_support import COMMUNE
from tests.test_statistics_support import citizen, make_published

T = 5

TABLES = [
    # one small cell in a 2 × 2 table
    [[12, 3], [22, 40]],
    # a row with a small cell and zeros: the partner must not be a zero
    [[3, 0, 0], [10, 20, 30], [9, 8, 50]],
    # several small cells, one column of small cells
    [[1, 30, 2], [4, 25, 60], [2, 18, 9], [40, 41, 42]],
    # a single row: no column has a second inner cell, so totals are hidden
    [[2, 50, 60]],
    # all small
    [[1, 2], [3, 4]],
    # wide and sparse, like ethnic group × sex over communes
    [[0, 0, 7, 1, 0, 20], [15, 16, 0, 0, 2, 0], [30, 12, 9, 10, 11, 40]],
]


def published(s: suppression.Suppressed) -> dict:
    return {cell: s.shown(*cell) for cell in s.values}


def _subtraction_attack(s: suppression.Suppressed) -> dict:
    """What "total − visible members" recovers along every line of the table."""
    recovered = {}
    for line in lines(s.rows, s.cols, s.row_totals):
        hidden = [cell for cell in line if s.shown(*cell) is None]
        if len(hidden) != 1:
            continue
        (cell,) = hidden
        inner = [s.shown(*c) for c in line[:-1] if c != cell]
        total = s.shown(*line[-1])
        recovered[cell] = sum(inner) - total if cell == line[-1] else total - sum(inner)
    return recovered


def _allowed(s: suppression.Suppressed, cell, value: int) -> bool:
    """Whether a hidden cell may hold ``value`` as far as a reader knows: "<5" is 1..4, "x"
    is 0 or at least 5."""
    if s.hidden[cell] == PRIMARY:
        return 1 <= value < T
    return value == 0 or value >= T


def _another_table(s: suppression.Suppressed, cell) -> dict | None:
    """Another table that agrees with everything published but differs at ``cell``, or
    None: a search over changes of the hidden cells (each by -2..2, ``cell`` by at least 1)
    that keep every published value and every line adding up, and every hidden value within
    what its mark says. If one exists, nobody can tell the true value from the other."""
    hidden = [cell, *sorted(c for c in s.hidden if c != cell)]
    all_lines = lines(s.rows, s.cols, s.row_totals)
    watching = {c: [line for line in all_lines if c in line] for c in hidden}
    delta: dict = {}

    def balanced(line) -> bool:
        if any(c in s.hidden and c not in delta for c in line):
            return True  # not decided yet
        return sum(delta.get(c, 0) for c in line[:-1]) == delta.get(line[-1], 0)

    def search(i: int) -> bool:
        if i == len(hidden):
            return True
        c = hidden[i]
        for d in ((1, -1, 2, -2) if i == 0 else (0, 1, -1, 2, -2)):
            if not _allowed(s, c, s.values[c] + d):
                continue
            delta[c] = d
            if all(balanced(line) for line in watching[c]) and search(i + 1):
                return True
            del delta[c]
        return False

    if not search(0):
        return None
    return {c: s.values[c] + d for c, d in delta.items()}


@pytest.mark.parametrize("table", TABLES)
def test_small_counts_are_primary_and_nothing_else_small_is_shown(table):
    s = suppress(table, T)
    for cell, value in s.values.items():
        if 0 < value < T:
            assert s.state(*cell) == PRIMARY
        if s.state(*cell) == SECONDARY:
            assert value == 0 or value >= T
        if s.shown(*cell) is not None:
            assert not 0 < s.shown(*cell) < T


@pytest.mark.parametrize("table", TABLES)
def test_no_line_hides_exactly_one_member(table):
    s = suppress(table, T)
    for line in lines(s.rows, s.cols, s.row_totals):
        assert sum(s.shown(*cell) is None for cell in line) != 1, line


@pytest.mark.parametrize("table", TABLES)
def test_subtraction_recovers_no_hidden_value(table):
    s = suppress(table, T)
    assert s.hidden  # every table here has a small cell
    assert _subtraction_attack(s) == {}


@pytest.mark.parametrize("table", TABLES)
def test_another_table_fits_what_is_published_for_every_small_count(table):
    s = suppress(table, T)
    for cell, state in s.hidden.items():
        if state == PRIMARY:
            other = _another_table(s, cell)
            assert other is not None, cell
            assert other[cell] != s.values[cell]


def test_another_table_finds_nothing_when_the_value_is_exposed():
    """The check can fail: with only the small cell hidden there is no other table."""
    s = suppress([[12, 3], [22, 40]], T)
    exposed = suppression.Suppressed(s.values, s.rows, s.cols, True, T, {(0, 1): PRIMARY})
    assert _another_table(exposed, (0, 1)) is None


def test_without_secondary_suppression_the_attack_works():
    """The attack is real: primary suppression alone gives the small count away."""
    s = suppress([[12, 3], [22, 40]], T)
    only_primary = suppression.Suppressed(s.values, s.rows, s.cols, True, T,
                                          {c: v for c, v in s.hidden.items() if v == PRIMARY})
    assert _subtraction_attack(only_primary)[(0, 1)] == 3


def test_zero_is_shown_and_threshold_is_configurable():
    s = suppress([[0, 7, 30], [9, 9, 30]], 10)
    assert s.shown(0, 0) == 0
    assert s.state(0, 1) == PRIMARY and s.state(1, 0) == PRIMARY


def test_columns_without_row_totals():
    s = suppress([[18, 3], [50, 10]], T, row_totals=False)
    assert s.state(0, 1) == PRIMARY and s.state(1, 1) == SECONDARY
    assert s.shown(TOTAL, 1) == 13 and s.shown(0, 0) == 18
    assert _subtraction_attack(s) == {}


# The published pages and CSV (both engines: the suite runs on the configured one) -----------

def _csv(app, url) -> list[list[str]]:
    text = citizen(app).get(url).get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def _grid(rows: list[list[str]]) -> tuple[list[list[str]], list[str]]:
    """(commune rows without name and code, the total row without its label)."""
    body = [r[2:] for r in rows[2:] if len(r) > 2 and r[1]]
    totals = next(r[2:] for r in rows if len(r) > 2 and not r[1] and r[0] != rows[1][0])
    return body, totals


def test_csv_is_suppressed_like_the_pages_and_cannot_be_undone(app):
    p = make_published()
    rows = _csv(app, p.csv_url("population"))
    assert rows[1][:2] == ["Xã, phường", "Mã"]
    assert "Thái – Nữ" in rows[1]
    body, totals = _grid(rows)
    assert "<5" in [cell for r in body for cell in r]
    assert "3" not in [cell for r in body for cell in r]
    # every line with a hidden cell hides at least two: rows (with their total) and columns
    for line in [*body, *zip(*body, strict=True)]:
        assert sum(cell in ("<5", "x") for cell in line) != 1
    for col in range(len(totals)):
        hidden = [r[col] for r in body if r[col] in ("<5", "x")]
        assert len(hidden) != 1 or totals[col] in ("<5", "x")
    page = citizen(app).get(p.commune_url(COMMUNE)).get_data(as_text=True)
    assert "&lt;5" in page
    assert ">3<" not in page


def test_threshold_from_configuration(app):
    app.config["SUPPRESSION_THRESHOLD"] = 2
    p = make_published()
    rows = _csv(app, p.csv_url("population"))
    body, _totals = _grid(rows)
    assert "3" in [cell for r in body for cell in r]

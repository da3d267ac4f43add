"""Small-cell suppression of a count table with published totals (docs/statistics.md).

Primary suppression: a count ``1 ≤ n < threshold`` is shown as ``<threshold``. A true zero
identifies nobody and stays visible.

Secondary (complementary) suppression: a table publishes its row totals, column totals and
grand total, so a *line* (a row with its total, a column with its total, the line of column
totals with the grand total, the line of row totals with the grand total) that hides exactly
one member gives it away by subtraction (total − visible members). Wherever a line hides
exactly one member, one more member of that line is hidden; hiding it may leave another line
with exactly one hidden member, so the pass repeats until no line has exactly one (it ends:
every pass hides at least one more of finitely many cells).

Which member: among the line's visible inner cells, the smallest one that is large enough
that "total − visible" leaves the small cell a range rather than a value (at least
``2 × threshold − 2``, see docs/statistics.md); else the smallest non-zero inner cell (a
hidden zero would still give ``p = total − visible``); else the line's total itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRIMARY = "primary"
SECONDARY = "secondary"

#: A cell of the table: (row, column); a row total has column ``TOTAL``, a column total
#: row ``TOTAL``, the grand total both.
TOTAL = -1
Cell = tuple[int, int]


@dataclass
class Suppressed:
    """A count table with its totals and the cells it hides."""

    values: dict[Cell, int]
    rows: int
    cols: int
    row_totals: bool
    threshold: int
    hidden: dict[Cell, str] = field(default_factory=dict)

    def value(self, row: int, col: int) -> int:
        return self.values[(row, col)]

    def state(self, row: int, col: int) -> str | None:
        """``primary``, ``secondary`` or None (shown)."""
        return self.hidden.get((row, col))

    def shown(self, row: int, col: int) -> int | None:
        """The value as published (None: hidden)."""
        return None if (row, col) in self.hidden else self.values[(row, col)]


def lines(rows: int, cols: int, row_totals: bool = True) -> list[list[Cell]]:
    """Every line of the table: its inner members, then its total (the last member).

    Without row totals (one column per indicator, which do not add up) only the columns and
    their totals are published.
    """
    found = [[(r, c) for r in range(rows)] + [(TOTAL, c)] for c in range(cols)]
    if row_totals:
        found += [[(r, c) for c in range(cols)] + [(r, TOTAL)] for r in range(rows)]
        found.append([(TOTAL, c) for c in range(cols)] + [(TOTAL, TOTAL)])
        found.append([(r, TOTAL) for r in range(rows)] + [(TOTAL, TOTAL)])
    return found


def complete(inner: list[list[int]], row_totals: bool = True) -> dict[Cell, int]:
    """The inner counts with their totals, keyed by cell."""
    rows, cols = len(inner), len(inner[0]) if inner else 0
    values = {(r, c): inner[r][c] for r in range(rows) for c in range(cols)}
    for c in range(cols):
        values[(TOTAL, c)] = sum(inner[r][c] for r in range(rows))
    if row_totals:
        for r in range(rows):
            values[(r, TOTAL)] = sum(inner[r])
        values[(TOTAL, TOTAL)] = sum(values[(TOTAL, c)] for c in range(cols))
    return values


def _partner(line: list[Cell], values: dict[Cell, int], hidden: dict[Cell, str],
             threshold: int) -> Cell:
    """The member of ``line`` to hide next to its one hidden member (see the docstring)."""
    visible = [cell for cell in line[:-1] if cell not in hidden]
    safe = 2 * threshold - 2
    for wanted in (lambda v: v >= safe, lambda v: v > 0):
        fitting = [cell for cell in visible if wanted(values[cell])]
        if fitting:
            return min(fitting, key=lambda cell: (values[cell], cell))
    total = line[-1]
    if total not in hidden:
        return total
    return min(visible, key=lambda cell: (values[cell], cell))


def suppress(inner: list[list[int]], threshold: int, row_totals: bool = True) -> Suppressed:
    """Primary then secondary suppression of ``inner`` (rows × columns of counts)."""
    rows, cols = len(inner), len(inner[0]) if inner else 0
    values = complete(inner, row_totals)
    hidden = {cell: PRIMARY for cell, v in values.items() if 0 < v < threshold}
    all_lines = lines(rows, cols, row_totals)
    changed = True
    while changed:
        changed = False
        for line in all_lines:
            if sum(cell in hidden for cell in line) == 1 and len(line) > 1:
                hidden[_partner(line, values, hidden, threshold)] = SECONDARY
                changed = True
    return Suppressed(values, rows, cols, row_totals, threshold, hidden)

"""The key figures of the public home page: a few totals of the latest published release.

They are read from the same suppressed tables as the statistics pages (:func:`.tables.build`),
never from the raw sums, so the home page cannot show what those pages hide: a total that
the tables hide (a small count, or one hidden so that another total does not reveal it) is
left out, and a rate is given only when both of its totals are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from . import suppression, tables

#: At most this many figures (the home page stays within one 14 KB flight).
LIMIT = 4
#: The rate of poor households is given when the release has both of these counts.
HOUSEHOLDS, POOR = "households", "poor_households"


@dataclass
class Figure:
    label: str
    value: int | float
    unit: str = ""
    #: A share (0–1) shown as a percentage, not a count.
    rate: bool = False
    #: The indicator's code (a count asked once), else empty.
    code: str = ""


@dataclass
class Headline:
    release: tables.Release
    figures: list[Figure]

    @property
    def communes(self) -> int:
        return len(self.release.sources)


def _shown_total(table: tables.Table, col: int) -> int | None:
    """A column's total over the published communes, or None when the table hides it."""
    value, hidden = table.cell(suppression.TOTAL, col)
    return None if hidden else value


def latest() -> Headline | None:
    """The figures of the newest published release, or None when nothing is published."""
    found = tables.releases()
    if not found:
        return None
    release = tables.build(found[0].form, found[0].period)
    if release is None:
        return None
    figures: list[Figure] = []
    counts: dict[str, int] = {}
    for table in release.tables:
        if table.row_totals:  # a breakdown (population by ethnic group × sex): its total
            total = _shown_total(table, suppression.TOTAL)
            if total is not None:
                figures.append(Figure(table.title, total, table.unit_of_measure))
            continue
        for col, (label, code) in enumerate(zip(table.columns, table.codes, strict=True)):
            total = _shown_total(table, col)
            if total is not None:
                counts[code] = total
                figures.append(Figure(label, total, table.units[col], code=code))
    if counts.get(HOUSEHOLDS) and POOR in counts:
        at = next(i for i, f in enumerate(figures) if f.code == POOR) + 1
        figures.insert(at, Figure(_("Share of poor households"),
                                  counts[POOR] / counts[HOUSEHOLDS], rate=True))
    return Headline(release, figures[:LIMIT])

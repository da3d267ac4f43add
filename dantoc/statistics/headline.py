"""The key figures of the public home page: a few totals of the latest published release.

They are read from the same suppressed tables as the statistics pages (:func:`.tables.build`),
never from the raw sums, so the home page cannot show what those pages hide: a total that
the tables hide (a small count, or one hidden so that another total does not reveal it) is
left out, and a rate is given only when both of its totals are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from ..i18n.selection import current_locale
from ..indicators.models import Form, Period
from . import suppression, tables

#: At most this many figures (the home page stays within one 14 KB flight).
LIMIT = 4
#: The rate of poor households is given when the release has both of these counts.
HOUSEHOLDS, POOR = "households", "poor_households"
#: Where :func:`latest` keeps the figures (``app.extensions``), and how many it keeps.
CACHE, CACHE_SIZE = "dantoc.statistics.headline", 32


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
    form: Form
    period: Period
    communes: int
    figures: list[Figure]


def _shown_total(table: tables.Table, col: int) -> int | None:
    """A column's total over the published communes, or None when the table hides it."""
    value, hidden = table.cell(suppression.TOTAL, col)
    return None if hidden else value


def figures_of(release: tables.Release) -> list[Figure]:
    """The shown totals of a release (counts asked once, then each breakdown's total), with
    the share of poor households after them when both of its totals are shown."""
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
    return figures[:LIMIT]


def latest() -> Headline | None:
    """The figures of the newest published release, or None when nothing is published.

    Building a release costs 165 ms at 10,000 villages (docs/benchmarks.md) and the home page
    is the most visited page, so its figures are kept per application, keyed by the
    release's ETag (which changes whenever what it shows may change: the public reports and
    their versions, the threshold) and the language: two cheap queries per visit."""
    found = tables.releases()
    if not found:
        return None
    ref = found[0]
    cache = current_app.extensions.setdefault(CACHE, {})
    key = (current_locale().tag, tables.etag(ref.form, ref.period))
    if key not in cache:
        release = tables.build(ref.form, ref.period)
        if release is None:
            return None
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        cache[key] = figures_of(release)
    return Headline(ref.form, ref.period, ref.communes, cache[key])

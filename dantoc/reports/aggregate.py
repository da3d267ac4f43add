"""The figures of a unit report: approved village values, aggregated per indicator and
disaggregation as each indicator says (``Indicator.aggregation``).

Only approved data rolls up. A commune's figures are the values of its approved village
submissions, each at its current version (once the report is submitted: at the versions it
was submitted with, see :class:`~dantoc.reports.models.UnitReportSource`). A district's or
the province's figures are those of its *approved* child reports, computed from the same
village values, so the province total is always the sum of the approved village values below
it, and an average is the average of the village values, never an average of averages.

How a value aggregates (the indicator model allows ``none`` or ``sum`` for non-numbers):

- integer, decimal, percent: ``sum``, ``average``, ``min``, ``max``; ``none`` is not shown;
- yes/no with ``sum``: the number of villages that answered yes;
- choice with ``sum``: the number of villages per answer;
- text with ``sum``: the number of villages that wrote something.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..indicators.models import Indicator
from ..submissions.models import Submission, SubmissionValue, SubmissionVersion
from . import queries, states
from .models import UnitReport
from .queries import Target

NUMERIC = ("integer", "decimal", "percent")
AVERAGE_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Source:
    """One approved village version that counts: (submission, version number, village), and
    the unit directly below the report it came through (None: a village of the report)."""

    submission_id: int
    version: int
    unit_id: int
    via: int | None = None


@dataclass
class _Cell:
    total: Decimal = Decimal(0)
    count: int = 0
    low: Decimal | None = None
    high: Decimal | None = None
    answers: Counter = field(default_factory=Counter)

    def add(self, value) -> None:
        self.count += 1
        if isinstance(value, Decimal):
            self.total += value
            self.low = value if self.low is None else min(self.low, value)
            self.high = value if self.high is None else max(self.high, value)
        elif isinstance(value, bool) or value not in (None, ""):
            self.answers[value] += 1  # yes/no, choice code or text


@dataclass
class Figure:
    """One aggregated figure; ``value`` is a number, or {answer: villages} for a choice."""

    indicator: Indicator
    key: str
    value: Decimal | int | dict
    villages: int


@dataclass
class Aggregate:
    figures: list[Figure]
    #: village unit id → number of values it contributed.
    contributions: dict[int, int]
    sources: list[Source]
    not_aggregated: list[Indicator]

    def counted_through(self, unit_id: int) -> int:
        """How many approved villages count through the unit ``unit_id`` directly below."""
        return sum(1 for s in self.sources if s.via == unit_id)

    def value(self, code: str, key: str = ""):
        """The figure of indicator ``code`` and disaggregation ``key`` (None when absent)."""
        return next((f.value for f in self.figures
                     if f.indicator.code == code and f.key == key), None)


def _village_sources(report: UnitReport | None, children: list[queries.Child]) -> list[Source]:
    if report is not None and report.state in states.UP:
        return [Source(s.submission_id, s.version_number, s.submission.unit_id)
                for s in report.sources]
    return [Source(c.submission.id, c.submission.current_version, c.unit.id)
            for c in children if c.is_village and c.approved]


def sources(t: Target, report: UnitReport | None = None) -> list[Source]:
    """The approved village versions that make the figures of ``t`` (recursively)."""
    children = queries.child_states(t)
    found = _village_sources(report, children)
    for child in children:
        if not child.is_village and child.approved:
            below = Target(t.form, t.form_version, t.period, child.unit)
            found += [replace(s, via=child.unit.id) for s in sources(below, child.report)]
    return found


def _rows(found: list[Source]):
    if not found:
        return []
    pairs = [(s.submission_id, s.version) for s in found]
    return db.session.execute(
        sa.select(Submission.unit_id, SubmissionValue)
        .join(SubmissionVersion, SubmissionValue.version_id == SubmissionVersion.id)
        .join(Submission, SubmissionVersion.submission_id == Submission.id)
        .where(sa.tuple_(SubmissionVersion.submission_id, SubmissionVersion.number).in_(pairs))
        .execution_options(populate_existing=True)).all()


def _value(indicator: Indicator, cell: _Cell):
    """The aggregated value, or None when the indicator does not aggregate."""
    how = indicator.aggregation
    if how == "none":
        return None
    if indicator.value_type in NUMERIC:
        if how == "average":
            return (cell.total / cell.count).quantize(AVERAGE_PLACES) if cell.count else None
        return {"sum": cell.total, "min": cell.low, "max": cell.high}.get(how)
    if indicator.value_type == "yes_no":
        return cell.answers[True]
    if indicator.value_type == "choice":
        return dict(sorted(cell.answers.items()))
    return sum(cell.answers.values())


def _order(t: Target) -> dict[int, int]:
    """indicator id → position in the form's newest published version."""
    positions = {}
    for section in t.form_version.sections:
        for item in section.items:
            positions.setdefault(item.indicator_id, len(positions))
    return positions


def compute(t: Target, report: UnitReport | None = None) -> Aggregate:
    """The figures of ``t``: approved village values below it, aggregated."""
    found = sources(t, report)
    cells: dict[tuple[int, str], _Cell] = {}
    indicators: dict[int, Indicator] = {}
    contributions: Counter = Counter()
    for unit_id, value in _rows(found):
        indicators[value.indicator_id] = value.indicator
        cells.setdefault((value.indicator_id, value.disaggregation), _Cell()).add(value.value)
        contributions[unit_id] += 1
    order = _order(t)
    figures, skipped = [], {}
    for (indicator_id, key), cell in sorted(
            cells.items(), key=lambda kv: (order.get(kv[0][0], len(order)),
                                           indicators[kv[0][0]].code, kv[0][1])):
        indicator = indicators[indicator_id]
        value = _value(indicator, cell)
        if value is None:
            skipped[indicator_id] = indicator
            continue
        figures.append(Figure(indicator, key, value, cell.count))
    return Aggregate(figures, dict(contributions), found, list(skipped.values()))

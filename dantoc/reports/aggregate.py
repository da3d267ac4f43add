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
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..catalogs.models import AdminLevel, AdminUnit
from ..catalogs.queries import valid_on
from ..extensions import db
from ..indicators import visibility
from ..indicators.models import Indicator
from ..submissions import states as entry_states
from ..submissions.models import Submission, SubmissionValue, SubmissionVersion
from . import states
from .models import UnitReport, UnitReportCell, UnitReportSource
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
    #: village unit id → number of values it contributed (the villages directly below).
    contributions: dict[int, int]
    #: unit id directly below → approved villages counted through it.
    through: dict[int, int]
    not_aggregated: list[Indicator]
    #: The statement listing the sources; read only when :attr:`sources` is asked for.
    sources_query: sa.Select | None = field(default=None, repr=False)
    #: With ``compute(…, split=True)``: unit id directly below → its figures
    #: ({(indicator id, disaggregation): value}), from the same statement as the total.
    below: dict[int, dict[tuple[int, str], Decimal | int | dict]] = field(default_factory=dict)

    def counted_through(self, unit_id: int) -> int:
        """How many approved villages count through the unit ``unit_id`` directly below."""
        return self.through.get(unit_id, 0)

    @property
    def sources(self) -> list[Source]:
        """Every approved village version that counts (one query; large for a province)."""
        if self.sources_query is None:
            return []
        return [Source(*row) for row in db.session.execute(
            self.sources_query.order_by(sa.text("submission_id")))]

    def value(self, code: str, key: str = ""):
        """The figure of indicator ``code`` and disaggregation ``key`` (None when absent)."""
        return next((f.value for f in self.figures
                     if f.indicator.code == code and f.key == key), None)


def _direct(t: Target, report: UnitReport | None) -> sa.Select:
    """(submission, number, village, via NULL) of the villages directly below ``t``: the
    versions the report went up with, else the approved submissions at their current
    version."""
    via = sa.cast(sa.null(), sa.Integer).label("via")
    if report is not None and report.state in states.UP:
        return (sa.select(UnitReportSource.submission_id.label("submission_id"),
                          UnitReportSource.version_number.label("number"),
                          Submission.unit_id.label("unit_id"), via)
                .join(Submission, Submission.id == UnitReportSource.submission_id)
                .where(UnitReportSource.report_id == report.id))
    return (sa.select(Submission.id.label("submission_id"),
                      Submission.current_version.label("number"),
                      Submission.unit_id.label("unit_id"), via)
            .join(AdminUnit, AdminUnit.id == Submission.unit_id)
            .where(AdminUnit.parent_id == t.unit.id, valid_on(t.day),
                   AdminUnit.level_id == t.fill_level.id, Submission.form_id == t.form.id,
                   Submission.period_id == t.period.id,
                   Submission.state == entry_states.APPROVED))


def _approved_below(t: Target):
    """(unit, via) of the units with an approved report below ``t``, recursively (a
    district's through its approved communes), ``via`` being the unit directly below ``t``.
    One subquery per reporting level below ``t`` (the depth is the difference of the levels'
    ranks), each joined to the one above; not a recursive query, whose size the planner
    cannot estimate."""
    reporting_levels = sa.select(AdminLevel.id).where(AdminLevel.rank < t.fill_level.rank)
    levels, above = [], None
    for _ in range(max(t.fill_level.rank - t.unit.level.rank - 1, 1)):
        unit, report = so.aliased(AdminUnit), so.aliased(UnitReport)
        via = unit.id if above is None else above.c.via
        level = (sa.select(unit.id.label("unit_id"), via.label("via"))
                 .join(report, sa.and_(report.unit_id == unit.id, report.form_id == t.form.id,
                                       report.period_id == t.period.id,
                                       report.state == states.APPROVED))
                 .where(unit.level_id.in_(reporting_levels), unit.valid_from <= t.day,
                        sa.or_(unit.valid_to.is_(None), unit.valid_to >= t.day)))
        level = (level.where(unit.parent_id == t.unit.id) if above is None
                 else level.join(above, unit.parent_id == above.c.unit_id))
        above = level.subquery()
        levels.append(level)
    return sa.union_all(*levels).subquery("approved_below")


def _through(t: Target) -> sa.Select:
    """(submission, number, village, via) of the villages counted through approved reports
    below ``t`` (:func:`_approved_below`): the list of sources (counts, the biểu's villages),
    not used for the figures, which come from the reports' cells (:func:`_report_cells`)."""
    below = _approved_below(t)
    return (sa.select(UnitReportSource.submission_id.label("submission_id"),
                      UnitReportSource.version_number.label("number"),
                      Submission.unit_id.label("unit_id"), below.c.via.label("via"))
            .join(UnitReport, UnitReport.id == UnitReportSource.report_id)
            .join(below, below.c.unit_id == UnitReport.unit_id)
            .join(Submission, Submission.id == UnitReportSource.submission_id)
            .where(UnitReport.form_id == t.form.id, UnitReport.period_id == t.period.id))


def _values_of(sources) -> tuple:
    """FROM sources → their submitted versions → the values (joins, no literal lists)."""
    return (sources, SubmissionVersion, SubmissionValue,
            sa.and_(SubmissionVersion.submission_id == sources.c.submission_id,
                    SubmissionVersion.number == sources.c.number),
            SubmissionValue.version_id == SubmissionVersion.id)


def _value_rows(sources, split: bool = False, indicators: sa.Select | None = None) -> list:
    """The rows of one GROUP BY over the values of ``sources``: per unit directly below the
    report with ``split`` (``via``; the villages of the report itself under None), else all
    under None (see :func:`_accumulate`); of ``indicators`` only, when given (a subquery of
    the ids a department sees)."""
    via = sources.c.via if split else sa.cast(sa.null(), sa.Integer)
    return db.session.execute(_cells_statement(sources, via, indicators)).all()


def _report_cells(t: Target, split: bool, indicators: sa.Select | None = None):
    """The rows of :func:`_cells`'s statement for the approved reports below ``t``, read from
    their stored cells (:class:`UnitReportCell`): a few rows per report, whatever the number
    of villages. Every report below, at any depth, has the cells of its own sources."""
    below = _approved_below(t)
    cell = UnitReportCell
    via = below.c.via if split else sa.cast(sa.null(), sa.Integer)
    return (sa.select(via, cell.indicator_id, cell.disaggregation, cell.answer,
                      sa.func.sum(cell.villages), sa.func.sum(cell.total),
                      sa.func.min(cell.low), sa.func.max(cell.high), sa.func.sum(cell.yes),
                      sa.func.sum(cell.texts))
            .join(UnitReport, UnitReport.id == cell.report_id)
            .join(below, below.c.unit_id == UnitReport.unit_id)
            .where(UnitReport.form_id == t.form.id, UnitReport.period_id == t.period.id,
                   visibility.restrict(cell.indicator_id, indicators))
            .group_by(via, cell.indicator_id, cell.disaggregation, cell.answer))


def _accumulate(*results) -> dict[tuple[int | None, int, str], tuple[Indicator, _Cell]]:
    """Rows (via, indicator id, key, answer, count, sum, min, max, yes, texts) → the cells,
    added together where two rows (a report's own villages and a report below) meet."""
    rows = [row for result in results for row in result]
    ids = sorted({row[1] for row in rows})
    indicators = {i.id: i for i in db.session.scalars(
        sa.select(Indicator).where(Indicator.id.in_(ids)))} if ids else {}
    cells: dict[tuple[int | None, int, str], tuple[Indicator, _Cell]] = {}
    for unit_id, indicator_id, key, choice, count, total, low, high, yes, texts in rows:
        indicator = indicators[indicator_id]
        cell = cells.setdefault((unit_id, indicator.id, key), (indicator, _Cell()))[1]
        cell.count += count
        if indicator.value_type in NUMERIC:
            cell.total += total or Decimal(0)
            cell.low = low if cell.low is None or (low is not None and low < cell.low) \
                else cell.low
            cell.high = high if cell.high is None or (high is not None and high > cell.high) \
                else cell.high
        elif indicator.value_type == "yes_no":
            cell.answers[True] += yes or 0
        elif indicator.value_type == "choice":
            if choice not in (None, ""):
                cell.answers[choice] += count
        else:
            cell.answers["text"] += texts or 0
    return cells


def _cells_statement(sources, via, indicators: sa.Select | None = None):
    """The GROUP BY of values per (via, indicator, disaggregation, choice answer)."""
    src, version, value, on_version, on_value = _values_of(sources)
    answer = sa.case((Indicator.value_type == "choice", value.value_text), else_=None)
    written = sa.and_(value.value_text.is_not(None), value.value_text != "")
    return (sa.select(via, Indicator.id, value.disaggregation, answer, sa.func.count(),
                      sa.func.sum(value.value_numeric), sa.func.min(value.value_numeric),
                      sa.func.max(value.value_numeric),
                      sa.func.sum(sa.case((value.value_bool == sa.true(), 1), else_=0)),
                      sa.func.sum(sa.case((written, 1), else_=0)))
            .select_from(src).join(version, on_version).join(value, on_value)
            .join(Indicator, Indicator.id == value.indicator_id)
            .where(visibility.restrict(value.indicator_id, indicators))
            .group_by(via, Indicator.id, Indicator.value_type, value.disaggregation, answer))


def store_cells(report: UnitReport) -> None:
    """Replace the stored cells of ``report`` with those of its sources (flushed): called
    with every change of its sources, in the same transaction."""
    store_cells_where(UnitReportSource.report_id == report.id)


def store_cells_where(condition) -> None:
    """Replace the stored cells of the reports whose sources meet ``condition`` (a condition
    on :class:`UnitReportSource`; the scale generator passes all of its reports)."""
    reports = sa.select(UnitReportSource.report_id).where(condition).scalar_subquery()
    table = UnitReportCell.__table__
    # Core statements on the session's connection: no ORM objects are loaded or flushed.
    connection = db.session.connection()
    connection.execute(table.delete().where(table.c.report_id.in_(reports)))
    sources = (sa.select(UnitReportSource.submission_id.label("submission_id"),
                         UnitReportSource.version_number.label("number"),
                         UnitReportSource.report_id.label("report_id"))
               .where(condition).subquery("own"))
    connection.execute(table.insert().from_select(
        ["report_id", "indicator_id", "disaggregation", "answer", "villages", "total", "low",
         "high", "yes", "texts"], _cells_statement(sources, sources.c.report_id)))


def _merged(cells: dict) -> dict[tuple[int, str], tuple[Indicator, _Cell]]:
    """The cells of every unit below added together (sums and counts added, bounds kept)."""
    out: dict[tuple[int, str], tuple[Indicator, _Cell]] = {}
    for (_unit, indicator_id, key), (indicator, cell) in cells.items():
        into = out.setdefault((indicator_id, key), (indicator, _Cell()))[1]
        into.total += cell.total
        into.count += cell.count
        into.low = cell.low if into.low is None else (
            into.low if cell.low is None else min(into.low, cell.low))
        into.high = cell.high if into.high is None else (
            into.high if cell.high is None else max(into.high, cell.high))
        into.answers.update(cell.answers)
    return out


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


def _contributions(direct: sa.Select) -> dict[int, int]:
    src, version, value, on_version, on_value = _values_of(direct.subquery("direct"))
    return dict(db.session.execute(
        sa.select(src.c.unit_id, sa.func.count(value.id)).select_from(src)
        .join(version, on_version).join(value, on_value).group_by(src.c.unit_id)).tuples().all())


def _counted_through(through: sa.Select) -> dict[int, int]:
    src = through.subquery("through")
    return dict(db.session.execute(sa.select(src.c.via, sa.func.count())
                                   .group_by(src.c.via)).tuples().all())


def compute(t: Target, report: UnitReport | None = None,
            indicators: sa.Select | None = None, *, split: bool = False) -> Aggregate:
    """The figures of ``t``: approved village values below it, aggregated in the database
    (a fixed number of statements, whatever the number of villages and communes); of
    ``indicators`` only when given (:func:`dantoc.indicators.visibility.visible_indicators`:
    what a department's officer sees). With ``split``, also the figures of each unit directly
    below that counts through its approved report (:attr:`Aggregate.below`), from the same
    statements: the biểu's rows."""
    direct, through = _direct(t, report), _through(t)
    sources = sa.union_all(direct, through)
    # The villages of the report itself from their values; the reports below from their
    # stored cells (not their villages' values: 460,000 of them for a province of 10,000
    # villages and 50 indicators).
    by_unit = _accumulate(_value_rows(direct.subquery("direct"), split, indicators),
                          db.session.execute(_report_cells(t, split, indicators)).all())
    cells = _merged(by_unit)
    below: dict[int, dict] = {}
    if split:
        for (unit_id, indicator_id, key), (indicator, cell) in by_unit.items():
            value = _value(indicator, cell)
            if unit_id is not None and value is not None:
                below.setdefault(unit_id, {})[(indicator_id, key)] = value
    order = _order(t)
    figures, skipped = [], {}
    for (indicator_id, key), (indicator, cell) in sorted(
            cells.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[1][0].code,
                                           kv[0][1])):
        value = _value(indicator, cell)
        if value is None:
            skipped[indicator_id] = indicator
            continue
        figures.append(Figure(indicator, key, value, cell.count))
    return Aggregate(figures, _contributions(direct), _counted_through(through),
                     list(skipped.values()), sources_query=sa.select(
                         sources.subquery("all_sources")), below=below)

"""Data lookup (tra cứu số liệu, issue #11): indicators × periods × units × breakdowns → a
table, computed by the database.

The figures are summed, counted and bounded by one ``GROUP BY`` (indicator, period, unit
bucket, disaggregation key); Python only merges those few aggregated rows into the
breakdowns asked for (a key ``ethnic_group=03;sex=female`` projected onto ``ethnic_group``
when sex is not asked) and applies each indicator's aggregation (sum, average, min, max;
yes/no counts the yes). The bucket is the village for a commune's table and the village's
commune for the province's, so the statement never carries a list of villages, whatever
their number. By commune (the province's table, and every re-based one) the statement reads
the communes' rollups of approved values (:mod:`dantoc.submissions.rollups`: kept with every
approval and un-approval, a few rows per commune, period and indicator), so its cost does not
grow with the villages; by village (one commune's table) it reads the raw values of the
current versions of approved submissions, at most one commune's. Pending data (submitted
reports, for those who may see them) is always read raw.

A derived indicator (a formula, :mod:`dantoc.indicators.formulas`) is computed from the
aggregated figures of the indicators it names, for each row (a commune's rate from the
commune's totals) and for the total (from the totals): never an average of village rates.

**Re-based** (``Request.rebase``): the commune bucket is mapped onto the communes valid
today through the lineage links (:func:`dantoc.catalogs.queries.rebase_map`, a recursive
query joined into the same ``GROUP BY``): a merge sums, a split multiplies the figure by its
share and marks the cell *estimated*. A figure that cannot be moved onto other units (an
average, a minimum or a maximum of villages that now belong elsewhere) is *refused*: the cell
says so instead of showing a number. Figures of periods after the reform map onto themselves
and are shown as they are, so a series 2024 → 2026 reads on today's communes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..catalogs.models import AdminUnit, fold
from ..catalogs.queries import rebase_map
from ..extensions import db
from ..i18n.content import tr
from ..i18n.formatting import format_period
from ..indicators import formulas
from ..indicators.models import Indicator, Period
from ..reports.queries import reference_day
from ..submissions import formbuilder, states
from ..submissions.models import CommuneRollup, Submission, SubmissionValue, SubmissionVersion

#: Breakdowns a lookup may ask for (disaggregation codes).
DIMENSIONS = ("ethnic_group", "sex", "religion")
#: The largest table computed (rows × columns), before anything is read.
MAX_CELLS = 200_000
#: Value types a lookup aggregates (choices and texts are counted per answer elsewhere).
AGGREGATED_TYPES = ("integer", "decimal", "percent", "yes_no")
AVERAGE_PLACES = Decimal("0.01")
#: An apportioned (estimated) figure is shown with this precision.
ESTIMATE_PLACES = Decimal("0.01")
#: Aggregations whose figures add up over units, so that they can be re-based.
ADDITIVE = ("sum",)
#: Cell flags: an apportioned figure, and a figure that cannot be re-based.
ESTIMATED, REFUSED = "estimated", "refused"


@dataclass(frozen=True)
class Request:
    """What the person asked for (already loaded and authorized by the view)."""

    indicators: tuple[Indicator, ...]
    periods: tuple[Period, ...]
    scope: AdminUnit | None  # None: the whole province; a commune: its villages
    by: tuple[str, ...] = ()
    swap: bool = False
    pending: bool = False
    #: Re-based onto the communes valid on ``day`` (today) through the lineage links.
    rebase: bool = False
    day: date | None = None


@dataclass
class _Acc:
    total: Decimal = Decimal(0)
    count: int = 0
    low: Decimal | None = None
    high: Decimal | None = None
    #: Some of the figure was apportioned by a split's share.
    estimated: bool = False
    #: Some of the figure comes from units that are not today's (re-based).
    moved: bool = False

    def merge(self, total, count, low, high, estimated=0, moved=0) -> None:
        self.estimated = self.estimated or bool(estimated)
        self.moved = self.moved or bool(moved)
        self.total += total if isinstance(total, Decimal) else Decimal(str(total or 0))
        self.count += int(count or 0)
        if low is not None:
            self.low = Decimal(low) if self.low is None else min(self.low, Decimal(low))
        if high is not None:
            self.high = Decimal(high) if self.high is None else max(self.high, Decimal(high))

    def flag(self, aggregation: str) -> str | None:
        if self.moved and aggregation not in ADDITIVE:
            return REFUSED
        return ESTIMATED if self.estimated else None

    def value(self, aggregation: str) -> Decimal | None:
        if not self.count or self.flag(aggregation) == REFUSED:
            return None
        if self.estimated:
            return self.total.quantize(ESTIMATE_PLACES)
        if aggregation == "average":
            return (self.total / self.count).quantize(AVERAGE_PLACES)
        if aggregation == "min":
            return self.low
        if aggregation == "max":
            return self.high
        return self.total


@dataclass(frozen=True)
class Header:
    """A row or column of the table: its key and its label in words."""

    key: tuple
    label: str
    unit: str = ""


@dataclass
class Table:
    rows: list[Header]
    columns: list[Header]
    cells: dict[tuple[tuple, tuple], Decimal]
    #: Column (or, swapped, row) key → its total over the other axis.
    totals: dict[tuple, Decimal | None]
    swapped: bool
    #: Indicators that cannot be aggregated here (choices, texts, aggregation "none").
    skipped: list[Indicator] = field(default_factory=list)
    #: (row key, column key) → :data:`ESTIMATED` or :data:`REFUSED` (re-based tables).
    flags: dict[tuple[tuple, tuple], str] = field(default_factory=dict)
    #: Total's key → its flag.
    total_flags: dict[tuple, str] = field(default_factory=dict)
    rebased: bool = False
    ESTIMATED, REFUSED = ESTIMATED, REFUSED

    def cell(self, row: Header, column: Header) -> Decimal | None:
        return self.cells.get((row.key, column.key))

    def body(self, number) -> list[tuple[Header, list[tuple[str, str | None]]]]:
        """Each row with its cells as (text, flag), the figures written by ``number`` ("—"
        for none): the page's thousands of cells formatted in one loop, not one template
        call each."""
        return [(row, [("—" if (value := self.cells.get((row.key, column.key))) is None
                        else number(value), self.flags.get((row.key, column.key)))
                       for column in self.columns])
                for row in self.rows]

    def flag(self, row: Header, column: Header) -> str | None:
        return self.flags.get((row.key, column.key))

    @property
    def estimated(self) -> bool:
        return ESTIMATED in self.flags.values()

    @property
    def size(self) -> int:
        return len(self.rows) * len(self.columns)


def _villages() -> so.util.AliasedClass:
    return so.aliased(AdminUnit, name="village")


def _buckets(request: Request):
    """The bucket column (village, or its commune) and the scope condition."""
    village = _villages()
    if request.scope is None:
        return village, village.parent_id, sa.true()
    return village, village.id, village.parent_id == request.scope.id


def _rebased(request: Request):
    """Re-based: the village, the lineage map joined on its commune, the bucket (today's
    commune) and the scope condition."""
    village = _villages()
    mapping = rebase_map(request.day or clock.today())
    where = sa.true() if request.scope is None else mapping.c.target == request.scope.id
    return village, mapping, mapping.c.target, where


def _units_in_scope(request: Request) -> int:
    village, bucket, where = _buckets(request)
    return db.session.scalar(sa.select(sa.func.count(sa.distinct(bucket))).select_from(village)
                             .where(where, village.level.has(code="village"))) or 0


def _breakdown_sizes(indicator: Indicator, by: tuple[str, ...]) -> int:
    size = 1
    for dim in formbuilder.dims_of(indicator):
        if dim.code in by:
            size *= max(len(dim.options), 1)
    return size


def estimate(request: Request) -> int:
    """Cells of the table before anything is read (units × periods × columns)."""
    columns = sum(_breakdown_sizes(i, request.by) for i in request.indicators)
    return _units_in_scope(request) * len(request.periods) * columns


def _by_commune(request: Request) -> bool:
    """Whether the table's rows are communes (the province's table, or any re-based one:
    its rows are today's communes), so that the approved figures are read from the commune
    rollups (:mod:`dantoc.submissions.rollups`) rather than from every village value."""
    return request.scope is None or request.rebase


@dataclass(frozen=True)
class _Grouping:
    """How finely a statement groups: a row per unit bucket (else the whole scope: a
    dashboard's series) and per disaggregation key (else summed over the keys in SQL, when
    no breakdown is asked for)."""

    buckets: bool = True
    keys: bool = True

    def columns(self, bucket, key) -> tuple[list, list]:
        """The (bucket, key) columns to select and the expressions to group by."""
        selected = [bucket.label("bucket") if self.buckets else sa.null().label("bucket"),
                    key if self.keys else sa.literal("", sa.String).label("disaggregation")]
        grouped = [column for column, kept in ((bucket, self.buckets), (key, self.keys))
                   if kept]
        return selected, grouped


def _statements(request: Request, indicators: list[Indicator],
                grouping: _Grouping) -> list[sa.Select]:
    """The statements whose rows :func:`_accumulate` merges: by commune, the rollups of the
    approved values (plus the submitted values, raw, when pending data is asked for); by
    village, the raw values."""
    if not _by_commune(request):
        allowed = (states.APPROVED, states.SUBMITTED) if request.pending else (
            states.APPROVED,)
        return [_raw_statement(request, indicators, allowed, grouping)]
    statements = [_rollup_statement(request, indicators, grouping)]
    if request.pending:
        statements.append(_raw_statement(request, indicators, (states.SUBMITTED,), grouping))
    return statements


def _rollup_statement(request: Request, indicators: list[Indicator],
                      grouping: _Grouping) -> sa.Select:
    """The same groups as :func:`_raw_statement`, from the commune rollups: a sum of the
    communes' sums (a yes/no's yes answers), counts added, bounds of bounds; re-based, each
    commune's figures through the lineage map (sums times the factor)."""
    rollup = CommuneRollup
    figure = sa.func.coalesce(rollup.total, 0) + rollup.yes
    flags = [sa.literal(0), sa.literal(0)]
    bucket, where = rollup.commune_id, sa.true()
    statement = sa.select(rollup.indicator_id).select_from(rollup)
    if request.rebase:
        mapping = rebase_map(request.day or clock.today())
        figure = figure * mapping.c.factor
        flags = [sa.func.max(mapping.c.split),
                 sa.func.max(sa.case((mapping.c.origin != mapping.c.target, 1), else_=0))]
        bucket = mapping.c.target
        if request.scope is not None:
            where = mapping.c.target == request.scope.id
        statement = statement.join(mapping, mapping.c.origin == rollup.commune_id)
    selected, grouped = grouping.columns(bucket, rollup.disaggregation)
    return (
        statement
        .add_columns(rollup.period_id, *selected,
                     sa.func.sum(figure), sa.func.sum(rollup.villages),
                     sa.func.min(rollup.low), sa.func.max(rollup.high), *flags)
        .where(rollup.indicator_id.in_([i.id for i in indicators]),
               rollup.period_id.in_([p.id for p in request.periods]), where)
        .group_by(rollup.indicator_id, rollup.period_id, *grouped))


def _raw_statement(request: Request, indicators: list[Indicator], allowed: tuple[str, ...],
                   grouping: _Grouping) -> sa.Select:
    """One ``GROUP BY`` over the current versions' values of the submissions in ``allowed``
    states: by village (a commune's table) or by commune, re-based or not."""
    numeric = SubmissionValue.value_numeric
    figure = sa.func.coalesce(numeric, sa.case((SubmissionValue.value_bool.is_(True), 1),
                                               else_=0))
    flags = [sa.literal(0), sa.literal(0)]
    if request.rebase:
        village, mapping, bucket, where = _rebased(request)
        figure = figure * mapping.c.factor
        flags = [sa.func.max(mapping.c.split),
                 sa.func.max(sa.case((mapping.c.origin != mapping.c.target, 1), else_=0))]
    else:
        village, bucket, where = _buckets(request)
    selected, grouped = grouping.columns(bucket, SubmissionValue.disaggregation)
    statement = (
        sa.select(SubmissionValue.indicator_id, Submission.period_id, *selected,
                  sa.func.sum(figure), sa.func.count(),
                  sa.func.min(numeric), sa.func.max(numeric), *flags)
        .select_from(SubmissionValue)
        .join(SubmissionVersion, SubmissionVersion.id == SubmissionValue.version_id)
        .join(Submission, sa.and_(Submission.id == SubmissionVersion.submission_id,
                                  SubmissionVersion.number == Submission.current_version))
        .join(village, village.id == Submission.unit_id))
    if request.rebase:
        statement = statement.join(mapping, mapping.c.origin == village.parent_id)
    return (
        statement
        .where(Submission.state.in_(allowed),
               SubmissionValue.indicator_id.in_([i.id for i in indicators]),
               Submission.period_id.in_([p.id for p in request.periods]), where)
        .group_by(SubmissionValue.indicator_id, Submission.period_id, *grouped))


@functools.lru_cache(maxsize=4096)
def _project(key: str, by: tuple[str, ...]) -> str:
    """``key`` reduced to the dimensions in ``by`` (the others summed away)."""
    if not key:
        return key
    parts = formbuilder.parse_key(key)
    return ";".join(f"{k}={v}" for k, v in sorted(parts.items()) if k in by)


class TooLarge(Exception):
    """The table would exceed :data:`MAX_CELLS` cells; nothing was read."""


def usable(indicator: Indicator) -> bool:
    """Whether the lookup can show ``indicator``: an aggregated number or a derived one."""
    return bool(indicator.formula) or (indicator.value_type in AGGREGATED_TYPES
                                       and indicator.aggregation != "none")


def _accumulate(request: Request, indicators: list[Indicator], by: tuple[str, ...],
                seen: set[int], *, buckets: bool = True) -> dict[tuple, _Acc]:
    """(row, column) → the merged aggregates of ``indicators`` (one GROUP BY). Without
    ``by`` the keys are summed away in SQL; without ``buckets`` the rows are periods of the
    whole scope (bucket None)."""
    accs: dict[tuple, _Acc] = {}
    if not indicators:
        return accs
    grouping = _Grouping(buckets=buckets, keys=bool(by))
    # Plain rows on the session's connection (its transaction), not through the ORM: a
    # province's table is thousands of aggregated rows.
    connection = db.session.connection()
    for statement in _statements(request, indicators, grouping):
        for indicator_id, period_id, bucket, key, *figures in connection.execute(statement):
            seen.add(bucket)
            accs.setdefault(((bucket, period_id), (indicator_id, _project(key, by))),
                            _Acc()).merge(*figures)
    return accs


def _regroup(accs: dict[tuple, _Acc], row_of) -> dict[tuple, _Acc]:
    """The same aggregates merged along ``row_of(row)`` (the total, a period's)."""
    out: dict[tuple, _Acc] = {}
    for (row, column), acc in accs.items():
        out.setdefault((row_of(row), column), _Acc()).merge(
            acc.total, acc.count, acc.low, acc.high, acc.estimated, acc.moved)
    return out


def _derive(plan: formulas.Plan, parts: dict[tuple, _Acc],
            by_id: dict[int, Indicator]) -> dict[tuple, Decimal | None]:
    """(row, (derived id, "")) → the derived value, from the inputs' figures of each row."""
    figures: dict[tuple, dict[int, Decimal | None]] = {}
    for (row, (indicator_id, _key)), acc in parts.items():
        figures.setdefault(row, {})[indicator_id] = acc.value(by_id[indicator_id].aggregation)
    return {(row, (derived_id, "")): value for row, known in figures.items()
            for derived_id, value in plan.evaluate(known).items()}


def run(request: Request) -> Table:
    """The table of ``request``.

    :raise TooLarge: beyond :data:`MAX_CELLS` cells (estimated before anything is read).
    """
    if estimate(request) > MAX_CELLS:
        raise TooLarge(MAX_CELLS)
    shown = [i for i in request.indicators if usable(i)]
    skipped = [i for i in request.indicators if i not in shown]
    entered, derived = formulas.derived_of(shown)
    seen_buckets: set[int] = set()
    accs = _accumulate(request, entered, request.by, seen_buckets)
    by_id = {i.id: i for i in entered}
    totals = _regroup(accs, lambda _row: ())
    cells = {(r, c): acc.value(by_id[c[0]].aggregation) for (r, c), acc in accs.items()}
    flags = {(r, c): flag for (r, c), acc in accs.items()
             if (flag := acc.flag(by_id[c[0]].aggregation))}
    column_totals = {c: acc.value(by_id[c[0]].aggregation) for ((), c), acc in totals.items()}
    total_flags = {c: flag for ((), c), acc in totals.items()
                   if (flag := acc.flag(by_id[c[0]].aggregation))}
    if derived:
        plan = formulas.plan(derived)
        parts = _accumulate(request, list(plan.inputs), (), seen_buckets)
        inputs = {i.id: i for i in plan.inputs}
        wanted = {i.id for i in derived}
        cells |= {k: v for k, v in _derive(plan, parts, inputs).items() if k[1][0] in wanted}
        column_totals |= {c: v for ((), c), v in _derive(
            plan, _regroup(parts, lambda _row: ()), inputs).items() if c[0] in wanted}
    columns = _columns(shown, cells, request.by)
    rows = _rows(request, seen_buckets, {r for r, _c in cells})
    if request.swap:
        cells = {(c, r): v for (r, c), v in cells.items()}
        flags = {(c, r): v for (r, c), v in flags.items()}
        rows, columns = columns, rows
    return Table(rows, columns, cells, column_totals, request.swap, skipped, flags,
                 total_flags, request.rebase)


def series(request: Request) -> tuple[dict[tuple[int, int], Decimal | None],
                                      set[tuple[int, int]]]:
    """(indicator id, period id) → the figure of the whole scope in that period: sums
    summed, averages over every village, derived indicators from those totals; and the
    (indicator id, period id) whose figure was apportioned from a split (re-based)."""
    shown = [i for i in request.indicators if usable(i)]
    entered, derived = formulas.derived_of(shown)
    plan = formulas.plan(derived)
    every = {i.id: i for i in (*entered, *plan.inputs)}
    accs = _regroup(_accumulate(request, list(every.values()), (), set(), buckets=False),
                    lambda row: row[1])
    entered_ids = {i.id for i in entered}
    out = {(c[0], period_id): acc.value(every[c[0]].aggregation)
           for (period_id, c), acc in accs.items() if c[0] in entered_ids}
    estimated = {(c[0], period_id) for (period_id, c), acc in accs.items()
                 if c[0] in entered_ids and acc.flag(every[c[0]].aggregation) == ESTIMATED}
    if derived:
        out |= {(c[0], period_id): v for (period_id, c), v in _derive(plan, accs, every).items()
                if c[0] in {i.id for i in derived}}
    return out, estimated


def _columns(indicators: list[Indicator], cells: dict, by: tuple[str, ...]) -> list[Header]:
    keys_by_indicator: dict[int, set[str]] = {}
    for _row, (indicator_id, key) in cells:
        keys_by_indicator.setdefault(indicator_id, set()).add(key)
    headers = []
    for indicator in indicators:
        item = formbuilder.ItemSpec(indicator, "", formbuilder.dims_of(indicator))
        keys = sorted(keys_by_indicator.get(indicator.id, {""}),
                      key=lambda k: [_option_rank(item, k)])
        for key in keys:
            words = formbuilder.cell_label(item, key)
            label = f"{tr(indicator, 'name')} – {words}" if words else tr(indicator, "name")
            unit = tr(indicator, "unit_of_measure") if indicator.unit_of_measure else ""
            headers.append(Header((indicator.id, key), label, unit))
    return headers


def _option_rank(item: formbuilder.ItemSpec, key: str) -> list[int]:
    parts = formbuilder.parse_key(key)
    rank = []
    for dim in item.dims:
        codes = [code for code, _label in dim.options]
        code = parts.get(dim.code)
        rank.append(codes.index(code) if code in codes else -1)
    return rank


def _rows(request: Request, buckets: set[int], seen: set[tuple] = frozenset()) -> list[Header]:
    """A row per unit and period: the units valid on the period's reference day, and any
    other with figures (as of then, the old communes carry their district's name)."""
    units = {u.id: u for u in db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.id.in_(sorted(buckets)))
        .options(so.joinedload(AdminUnit.parent)))} if buckets else {}
    ordered = sorted(units.values(), key=lambda u: (fold(_unit_label(u)), u.valid_from))
    return [Header((u.id, p.id), f"{_unit_label(u)} · {format_period(p)}")
            for u in ordered for p in request.periods
            if (u.id, p.id) in seen or u.valid_on(reference_day(p))]


def _unit_label(unit: AdminUnit) -> str:
    """The unit's name; an old commune's with its district, "Phường Quyết Tiến (Thành phố
    Lai Châu)", since names repeat across the reform."""
    parent = unit.parent
    if parent is not None and unit.valid_to is not None and parent.valid_to is not None \
            and parent.parent_id is not None:
        return f"{tr(unit, 'name')} ({tr(parent, 'name')})"
    return tr(unit, "name")

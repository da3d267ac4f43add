"""The public tables: the figures of published, still-approved commune reports, suppressed.

For one form and period (a *release*), every integer indicator that adds up (``sum``) gives
one table:

- a disaggregated indicator (population by ethnic group × sex): rows are the communes,
  columns the breakdowns present ("Thái – Nữ"), with row totals (the commune), column totals
  (the breakdown over the published communes) and the grand total;
- the indicators asked once (households, poor households) share one table: rows are the
  communes, one column per indicator, with column totals only (indicators do not add up).

Each table is suppressed once (:mod:`.suppression`) and every page and CSV shows a view of
that one suppressed table, so no page's totals can undo another page's suppression.
Only counts are published: averages, yes/no, choices and text are not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from ..catalogs.models import AdminLevel, AdminUnit
from ..extensions import db
from ..i18n.content import tr
from ..indicators.models import Form, Indicator, Period
from ..reports import queries
from ..reports import states as report_states
from ..reports.models import UnitReport, UnitReportSource
from ..submissions import formbuilder
from ..submissions.models import SubmissionValue, SubmissionVersion
from . import states, suppression
from .models import ReportPublication

DEFAULT_THRESHOLD = 5
#: Bump when what a page shows for the same data changes (part of every ETag).
LAYOUT = "1"


def threshold() -> int:
    return max(1, int(current_app.config.get("SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD)))


def public_reports() -> sa.Select:
    """Commune reports that are published, still approved, at the version that was published
    (a reopened report drops out; approved again, it waits to be published again)."""
    return (sa.select(UnitReport, ReportPublication)
            .join(ReportPublication, ReportPublication.report_id == UnitReport.id)
            .join(AdminUnit, UnitReport.unit_id == AdminUnit.id)
            .join(AdminLevel, AdminUnit.level_id == AdminLevel.id)
            .where(ReportPublication.state == states.PUBLISHED,
                   UnitReport.state == report_states.APPROVED,
                   ReportPublication.report_version == UnitReport.version,
                   AdminLevel.code == "commune"))


@dataclass
class ReleaseRef:
    """A form and period with at least one public report."""

    form: Form
    period: Period
    communes: int


def releases() -> list[ReleaseRef]:
    """Every published form and period, newest period first."""
    sub = public_reports().subquery()
    rows = db.session.execute(
        sa.select(Form, Period, sa.func.count())
        .join(sub, sub.c.form_id == Form.id).join(Period, sub.c.period_id == Period.id)
        .group_by(Form.id, Period.id)
        .order_by(Period.start_date.desc(), Period.code.desc(), Form.code)).all()
    return [ReleaseRef(f, p, n) for f, p, n in rows]


def find_release(form_code: str, period_code: str) -> tuple[Form, Period] | None:
    form = db.session.scalar(sa.select(Form).where(Form.code == form_code))
    period = db.session.scalar(sa.select(Period).where(Period.code == period_code))
    return (form, period) if form is not None and period is not None else None


def _published(form: Form, period: Period) -> list[tuple[UnitReport, ReportPublication]]:
    rows = db.session.execute(
        public_reports().where(UnitReport.form_id == form.id, UnitReport.period_id == period.id)
        .options(so.joinedload(UnitReport.unit), so.joinedload(UnitReport.decided_by),
                 so.joinedload(ReportPublication.published_by))).all()
    return sorted(((r, p) for r, p in rows), key=lambda rp: rp[0].unit.code)


def etag(form: Form, period: Period, *more: str) -> str:
    """Changes whenever what the release shows may change: which reports are public and
    their versions, the threshold, the layout (the locale is added by the view)."""
    rows = db.session.execute(
        public_reports().with_only_columns(UnitReport.id, UnitReport.version,
                                           ReportPublication.version)
        .where(UnitReport.form_id == form.id, UnitReport.period_id == period.id)
        .order_by(UnitReport.id)).all()
    text = "|".join([LAYOUT, str(threshold()), str(form.id), str(period.id), *more,
                     *(f"{a}.{b}.{c}" for a, b, c in rows)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Source:
    """Where a commune's figures come from, as the public pages state it."""

    unit: AdminUnit
    report: UnitReport
    publication: ReportPublication

    @property
    def name(self) -> str:
        return tr(self.unit, "name")

    @property
    def approved_by(self) -> str:
        return self.report.decided_by.full_name if self.report.decided_by else ""

    @property
    def approved_at(self) -> datetime | None:
        return self.report.decided_at

    @property
    def published_at(self) -> datetime | None:
        return self.publication.published_at


@dataclass
class Table:
    """One suppressed table: its indicator(s), rows (communes) and columns (labels)."""

    code: str
    title: str
    unit_of_measure: str
    rows: list[Source]
    columns: list[str]
    data: suppression.Suppressed
    #: The table of counts asked once: each column's indicator code and unit of measure.
    codes: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)

    @property
    def row_totals(self) -> bool:
        return self.data.row_totals

    def cell(self, row: int, col: int) -> tuple[int, str | None]:
        return self.data.value(row, col), self.data.state(row, col)

    def row_index(self, unit_id: int) -> int | None:
        return next((i for i, s in enumerate(self.rows) if s.unit.id == unit_id), None)


@dataclass
class Release:
    form: Form
    period: Period
    sources: list[Source]
    tables: list[Table] = field(default_factory=list)

    def table(self, code: str) -> Table | None:
        return next((t for t in self.tables if t.code == code), None)

    def source(self, unit_code: str) -> Source | None:
        return next((s for s in self.sources if s.unit.code == unit_code), None)


def _counts(indicator: Indicator) -> bool:
    return indicator.value_type == "integer" and indicator.aggregation == "sum"


def _column_order(item: formbuilder.ItemSpec | None, key: str) -> tuple:
    if item is None:
        return (key,)
    parts = formbuilder.parse_key(key)
    dims = sorted(item.dims, key=lambda d: d is not item.dims[item.row_dim])
    places = [next((i for i, (code, _label) in enumerate(d.options)
                    if code == parts.get(d.code)), len(d.options)) for d in dims]
    return (*places, key)


def _sums(report_ids: list[int]) -> dict[int, dict[tuple[int, str], int]]:
    """report id → {(indicator id, disaggregation): sum} of the counts of the village
    versions each commune report was submitted with (its frozen sources), in one query.

    The same figures as :func:`dantoc.reports.aggregate.compute` gives for an approved
    commune report (its ``sum`` of the source values; tests/test_statistics_public.py checks
    they agree), without loading each commune's villages (docs/statistics.md, benchmark)."""
    rows = db.session.execute(
        sa.select(UnitReportSource.report_id, SubmissionValue.indicator_id,
                  SubmissionValue.disaggregation, sa.func.sum(SubmissionValue.value_numeric))
        .join(SubmissionVersion, sa.and_(
            SubmissionVersion.submission_id == UnitReportSource.submission_id,
            SubmissionVersion.number == UnitReportSource.version_number))
        .join(SubmissionValue, SubmissionValue.version_id == SubmissionVersion.id)
        .join(Indicator, Indicator.id == SubmissionValue.indicator_id)
        .where(UnitReportSource.report_id.in_(report_ids),
               Indicator.value_type == "integer", Indicator.aggregation == "sum",
               SubmissionValue.value_numeric.is_not(None))
        .group_by(UnitReportSource.report_id, SubmissionValue.indicator_id,
                  SubmissionValue.disaggregation)).all()
    found: dict[int, dict[tuple[int, str], int]] = {rid: {} for rid in report_ids}
    for report_id, indicator_id, key, total in rows:
        found[report_id][(indicator_id, key)] = int(total)
    return found


def build(form: Form, period: Period) -> Release | None:
    """The release of ``form`` for ``period``, or None when nothing of it is public."""
    published = _published(form, period)
    if not published:
        return None
    sources = [Source(r.unit, r, p) for r, p in published]
    release = Release(form, period, sources)
    target = queries.target_of(sources[0].report)
    if target is None:
        return None
    sums = _sums([s.report.id for s in sources])
    figures = [sums[s.report.id] for s in sources]
    ids = {iid for mine in figures for (iid, _key) in mine}
    indicators = {i.id: i for i in db.session.scalars(
        sa.select(Indicator).where(Indicator.id.in_(ids)))} if ids else {}
    spec = formbuilder.load_spec(target.form_version).by_code()
    order = {item.indicator.id: i for i, item in enumerate(spec.values())}
    limit = threshold()
    scalars = []
    for indicator in sorted(indicators.values(), key=lambda i: (order.get(i.id, 1e9), i.code)):
        item = spec.get(indicator.code)
        keys = sorted({k for mine in figures for (iid, k) in mine if iid == indicator.id and k},
                      key=lambda k: _column_order(item, k))
        if not keys:
            scalars.append(indicator)
            continue
        inner = [[mine.get((indicator.id, k), 0) for k in keys] for mine in figures]
        columns = [formbuilder.cell_label(item, k) if item else k for k in keys]
        release.tables.append(Table(indicator.code, tr(indicator, "name"),
                                    indicator.unit_of_measure or "", sources, columns,
                                    suppression.suppress(inner, limit)))
    if scalars:
        inner = [[mine.get((i.id, ""), 0) for i in scalars] for mine in figures]
        release.tables.insert(0, Table(
            "chung", "", "", sources, [tr(i, "name") for i in scalars],
            suppression.suppress(inner, limit, row_totals=False),
            codes=[i.code for i in scalars], units=[i.unit_of_measure or "" for i in scalars]))
    return release

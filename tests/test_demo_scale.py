"""``flask demo scale``: the generated data the output benchmarks read (benchmarks/reports.py),
on both engines (PostgreSQL writes with COPY): more indicators than the demo's 15, every
period's commune and province reports approved, figures that add up."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from dantoc.demo import seed
from dantoc.demo.catalogue import INDICATORS
from dantoc.demo.scale import FORM_CODE, Plan, ScaleError, generate
from dantoc.demo.units import current_communes
from dantoc.extensions import db
from dantoc.indicators.models import Form, Indicator
from dantoc.reports import aggregate, queries
from dantoc.reports.models import UnitReport
from dantoc.submissions.models import Submission, SubmissionValue, SubmissionVersion
from tests.factories import ensure_reference


@pytest.fixture
def demo(app):
    ensure_reference()
    seed()
    db.session.commit()


def test_scale_with_more_indicators_than_the_demo_has(demo):
    counts = generate(Plan(villages=40, periods=2, indicators=20, seed=3))
    db.session.commit()
    form = db.session.scalar(sa.select(Form).where(Form.code == FORM_CODE))
    items = [i.indicator for s in form.versions[-1].sections for i in s.items]
    asked = [code for _g, code, _n, attrs in INDICATORS if not attrs.get("formula")]
    assert len(items) == 20
    assert [i.code for i in items[:len(asked)]] == asked  # a derived one is never asked
    assert [i.code for i in items[len(asked):]] == [f"scale_{n:03d}" for n in
                                                    range(len(asked) + 1, 21)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Indicator).where(
        Indicator.code.like("scale_%"))) == 20 - len(asked) > 0
    # Every row written is in the database (COPY on PostgreSQL, INSERTs on SQLite).
    assert counts["submissions"] == db.session.scalar(
        sa.select(sa.func.count()).select_from(Submission).where(Submission.form_id == form.id))
    assert counts["submission_values"] == db.session.scalar(
        sa.select(sa.func.count()).select_from(SubmissionValue)) > 40 * 2 * 15
    province_id = current_communes()[0].parent_id
    provinces = db.session.scalars(sa.select(UnitReport).where(
        UnitReport.form_id == form.id, UnitReport.unit_id == province_id)).all()
    assert len(provinces) == 2 and {r.state for r in provinces} == {"approved"}

    # The province report's figure is the sum of the approved villages' values.
    report = provinces[-1]
    t = queries.target_of(report)
    households = next(i for i in items if i.code == "households")
    approved = db.session.scalar(
        sa.select(sa.func.sum(SubmissionValue.value_numeric))
        .join(SubmissionVersion, SubmissionVersion.id == SubmissionValue.version_id)
        .join(Submission, sa.and_(Submission.id == SubmissionVersion.submission_id,
                                  Submission.current_version == SubmissionVersion.number))
        .where(Submission.period_id == report.period_id, Submission.state == "approved",
               Submission.form_id == form.id, SubmissionValue.indicator_id == households.id))
    figures = aggregate.compute(t, report, split=True)
    assert figures.value("households") == approved > Decimal(0)
    assert sum(v[(households.id, "")] for v in figures.below.values()) == approved


def test_scale_refuses_a_second_run_and_too_many_indicators(demo):
    with pytest.raises(ScaleError):
        generate(Plan(villages=2, periods=1, indicators=201))
    generate(Plan(villages=2, periods=1, indicators=3))
    with pytest.raises(ScaleError):
        generate(Plan(villages=2, periods=1, indicators=3))

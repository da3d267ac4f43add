"""Roll-ups: only approved village values count; the province total is the sum of the
approved village values below it; each indicator aggregates as its model says."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dantoc.extensions import db
from dantoc.reports import aggregate, queries
from dantoc.reports.queries import Target
from dantoc.submissions.models import Submission
from tests.factories import make_village, officer
from tests.test_reports_support import (
    COMMUNE,
    OTHER_COMMUNE,
    add_version,
    make_world,
    put,
    report_of,
    village_values,
)

KINH_MALE = "population|ethnic_group=01;sex=male"
THAI_FEMALE = "population|ethnic_group=03;sex=female"


def target(w, unit) -> Target:
    return Target(w.version.form, w.version, w.period, unit)


def submit_and_approve(app, w, commune_code, commune, reasons=None):
    _user, client = officer(app, "commune_officer", commune_code)
    data = {"version": "0"} | {f"missing_{u.id}": r for u, r in (reasons or {}).items()}
    assert client.post(w.report_url(commune, "/submit"), data=data).status_code == 303
    report = report_of(w.version, commune, w.period)
    _boss, theirs = officer(app, "province_officer", "12")
    assert theirs.post(f"/reports/{report.id}/approve",
                       data={"version": "1"}).status_code == 303
    return report


def test_province_total_is_the_sum_of_approved_village_values(app):
    w = make_world(villages=3, others=2)
    here = [village_values(10, 20, 30, poor=1), village_values(5, 7, 9, poor=2, road=False)]
    there = [village_values(3, 4, 5, poor=3), village_values(8, 1, 2, poor=4)]
    for village, values in zip(w.villages[:2], here, strict=True):
        put(w.version, village, w.period, values)
    put(w.version, w.villages[2], w.period, village_values(999, 999, 999, poor=99),
        state="submitted")  # not approved: must not count
    for village, values in zip(w.others, there, strict=True):
        put(w.version, village, w.period, values)
    submit_and_approve(app, w, COMMUNE, w.commune, {w.villages[2]: "Chưa duyệt"})
    other = w.others[0].parent
    submit_and_approve(app, w, OTHER_COMMUNE, other)

    total = aggregate.compute(target(w, w.province))
    approved = here + there
    for key in ("households", "poor_households", KINH_MALE, THAI_FEMALE):
        code, _sep, disaggregation = key.partition("|")
        assert total.value(code, disaggregation) == sum(v[key] for v in approved), key
    assert total.value("road_hardened") == 3  # villages that answered yes
    assert total.value("health_access") is None  # aggregation "none" in the questionnaire
    assert "health_access" in {i.code for i in total.not_aggregated}
    assert total.value("households") == Decimal(26)
    assert total.counted_through(w.commune.id) == 2
    assert total.counted_through(other.id) == 2
    commune_total = aggregate.compute(target(w, w.commune),
                                      report_of(w.version, w.commune, w.period))
    assert commune_total.value("households") == Decimal(15)
    assert set(commune_total.contributions) == {v.id for v in w.villages[:2]}


def test_province_page_shows_the_total(app):
    w = make_world(villages=2, others=0)
    put(w.version, w.villages[0], w.period, village_values(11, 1, 1))
    put(w.version, w.villages[1], w.period, village_values(22, 1, 1))
    submit_and_approve(app, w, COMMUNE, w.commune)
    _boss, client = officer(app, "province_officer", "12")
    html = client.get(w.report_url(w.province)).get_data(as_text=True)
    assert "<td class=\"num\">33</td>" in html
    assert "2 villages" in html


def test_unapproved_commune_reports_do_not_reach_the_province(app):
    w = make_world(villages=1, others=1)
    put(w.version, w.villages[0], w.period, village_values(10))
    put(w.version, w.others[0], w.period, village_values(7))
    _user, client = officer(app, "commune_officer", COMMUNE)
    assert client.post(w.report_url(w.commune, "/submit"),
                       data={"version": "0"}).status_code == 303  # submitted, not approved
    assert aggregate.compute(target(w, w.province)).figures == []
    submit_and_approve(app, w, OTHER_COMMUNE, w.others[0].parent)
    assert aggregate.compute(target(w, w.province)).value("households") == Decimal(7)


def test_a_submitted_report_keeps_the_versions_it_was_submitted_with(app):
    w = make_world(villages=1, others=0)
    submission = put(w.version, w.villages[0], w.period, village_values(10))
    report = submit_and_approve(app, w, COMMUNE, w.commune)
    # the village is corrected afterwards (version 2, approved again)
    add_version(submission, 2, village_values(50))
    submission.current_version = 2
    db.session.commit()
    assert aggregate.compute(target(w, w.commune), report).value("households") == Decimal(10)
    assert aggregate.compute(target(w, w.province)).value("households") == Decimal(10)
    _boss, client = officer(app, "province_officer", "12")
    html = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "changed after the report was submitted" in html


def test_open_report_shows_live_approved_values_at_their_current_version(app):
    w = make_world(villages=2, others=0)
    first = put(w.version, w.villages[0], w.period, village_values(10), versions=2)
    put(w.version, w.villages[1], w.period, village_values(5), state="returned")
    result = aggregate.compute(target(w, w.commune))
    assert result.value("households") == Decimal(10)
    assert [s.submission_id for s in result.sources] == [first.id]
    assert result.sources[0].version == 2


AGGREGATIONS = (
    ("total", "Tổng", {"value_type": "integer"}),
    ("avg_km", "Trung bình", {"value_type": "decimal", "aggregation": "average"}),
    ("low", "Nhỏ nhất", {"value_type": "integer", "aggregation": "min"}),
    ("high", "Lớn nhất", {"value_type": "percent", "aggregation": "max"}),
    ("flag", "Có / không", {"value_type": "yes_no"}),
    ("pick", "Lựa chọn", {"value_type": "choice", "aggregation": "sum",
                          "choices": (("a", "A"), ("b", "B"))}),
    ("remark", "Ghi chú", {"value_type": "text", "aggregation": "sum"}),
    ("hidden", "Không cộng", {"value_type": "integer", "aggregation": "none"}),
)


@pytest.fixture
def varied(app):
    w = make_world(villages=3, others=0, indicators=AGGREGATIONS, rules=())
    rows = [
        {"total": Decimal(1), "avg_km": Decimal("1.5"), "low": Decimal(4), "high": Decimal(10),
         "flag": True, "pick": "a", "remark": "x", "hidden": Decimal(1)},
        {"total": Decimal(2), "avg_km": Decimal("2.5"), "low": Decimal(2), "high": Decimal(30),
         "flag": False, "pick": "a", "hidden": Decimal(1)},
        {"total": Decimal(4), "avg_km": Decimal("4"), "low": Decimal(9), "high": Decimal(20),
         "flag": True, "pick": "b", "remark": "y", "hidden": Decimal(1)},
    ]
    for village, values in zip(w.villages, rows, strict=True):
        put(w.version, village, w.period, values)
    return w


def test_each_indicator_aggregates_as_its_model_says(varied):
    result = aggregate.compute(target(varied, varied.commune))
    assert result.value("total") == Decimal(7)
    assert result.value("avg_km") == Decimal("2.67")
    assert result.value("low") == Decimal(2)
    assert result.value("high") == Decimal(30)
    assert result.value("flag") == 2
    assert result.value("pick") == {"a": 2, "b": 1}
    assert result.value("remark") == 2
    assert result.value("hidden") is None
    assert [i.code for i in result.not_aggregated] == ["hidden"]
    assert [f.indicator.code for f in result.figures] == [
        "total", "avg_km", "low", "high", "flag", "pick", "remark"]  # the form's order
    assert {f.indicator.code: f.villages for f in result.figures}["remark"] == 2


def test_average_at_the_province_is_over_villages_not_communes(app, varied):
    far = make_village(f"{OTHER_COMMUNE}-X1", commune_code=OTHER_COMMUNE)
    put(varied.version, far, varied.period, {"total": Decimal(1), "avg_km": Decimal(10)})
    submit_and_approve(app, varied, COMMUNE, varied.commune)
    submit_and_approve(app, varied, OTHER_COMMUNE, far.parent)
    result = aggregate.compute(target(varied, varied.province))
    assert result.value("avg_km") == Decimal("4.50")  # (1.5 + 2.5 + 4 + 10) / 4, not 6.33
    assert result.value("total") == Decimal(8)


def test_child_states_follow_the_period_tree(varied):
    children = queries.child_states(target(varied, varied.commune))
    assert [c.unit.id for c in children] == sorted(
        (v.id for v in varied.villages), key=lambda i: db.session.get(
            type(varied.villages[0]), i).code)
    assert all(c.is_village and c.approved for c in children)
    assert db.session.scalar(db.select(db.func.count()).select_from(Submission)) == 3


def test_the_province_adds_up_its_reports_cells_stored_at_submit(app):
    """A submit stores the report's cells (migration 0023's backfill writes the same rows);
    the level above reads those cells, not the village values below."""
    import importlib

    import sqlalchemy as sa

    from dantoc.reports.models import UnitReportCell

    w = make_world(villages=2, others=0)
    put(w.version, w.villages[0], w.period, village_values(10, 2, 3, poor=1))
    put(w.version, w.villages[1], w.period, village_values(4, 5, 6, poor=2, road=False))
    report = submit_and_approve(app, w, COMMUNE, w.commune)

    def cells() -> set[tuple]:
        return {(c.report_id, c.indicator_id, c.disaggregation, c.answer, c.villages,
                 c.total, c.low, c.high, c.yes, c.texts)
                for c in db.session.scalars(sa.select(UnitReportCell))}

    stored = cells()
    households = next(c for c in stored if c[2] == "" and c[5] == Decimal(14))
    assert households[4] == 2 and (households[6], households[7]) == (Decimal(4), Decimal(10))
    assert {c[0] for c in stored} == {report.id}
    migration = importlib.import_module("migrations.versions.0023_report_cells")
    db.session.execute(sa.delete(UnitReportCell))
    db.session.execute(sa.text(migration.BACKFILL))
    assert cells() == stored
    assert aggregate.compute(target(w, w.province)).value("households") == Decimal(14)
    db.session.execute(sa.delete(UnitReportCell))
    assert aggregate.compute(target(w, w.province)).figures == []  # read from the cells
    db.session.rollback()

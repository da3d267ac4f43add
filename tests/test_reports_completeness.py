"""Completeness: per village for the commune (status, late, who to remind), per commune (and
district before the reform) for the province, with filters, drill-down and HTMX rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from dantoc.clock import today
from dantoc.extensions import db
from dantoc.reports import completeness
from dantoc.reports.queries import Target
from dantoc.submissions.models import SubmissionVersion
from tests.factories import make_village_head, officer, unit
from tests.test_reports_support import (
    COMMUNE,
    OTHER_COMMUNE,
    make_old_world,
    make_world,
    put,
    village_values,
)


@pytest.fixture
def world(app):
    """Five villages of 03388: not started, draft, submitted, returned, approved; each with
    a village head; one approved village in 03637."""
    w = make_world(villages=5, others=1)
    states = [None, "draft", "submitted", "returned", "approved"]
    for village, state in zip(w.villages, states, strict=True):
        if state:
            put(w.version, village, w.period, village_values(1), state=state)
    put(w.version, w.others[0], w.period, village_values(1))
    heads = [make_village_head(v, username=f"head-{n}") for n, v in enumerate(w.villages)]
    return w, heads


def url(w, **extra) -> str:
    query = "&".join(f"{k}={v}" for k, v in ({"form": w.version.form_id,
                                              "period": w.period.id} | extra).items())
    return f"/reports/completeness?{query}"


def test_commune_sees_each_village_with_its_status_and_who_to_remind(app, world):
    w, _heads = world
    _user, client = officer(app, "commune_officer", COMMUNE)
    html = client.get(url(w)).get_data(as_text=True)
    for village in w.villages:
        assert village.name in html
    assert w.others[0].name not in html
    for label in ("Not started", "Draft", "Submitted", "Returned for correction", "Approved"):
        assert label in html
    remind = html.split("Who to remind", 1)[1]
    for n in (0, 1, 3):  # not started, draft, returned
        assert f"(head-{n})" in remind
    for n in (2, 4):  # submitted, approved: nothing to remind
        assert f"(head-{n})" not in remind
    assert '<ul class="rows"' in html  # one compact row per village, nothing cut at 360 px


def test_area_counts_and_late(app, world):
    w, _heads = world
    w.period.opens_on = today() - timedelta(days=60)
    w.period.closes_on = today() - timedelta(days=10)
    db.session.commit()
    # the approved village submitted in time, the submitted one after the deadline
    versions = db.session.scalars(sa.select(SubmissionVersion)).all()
    on_time = datetime.combine(w.period.closes_on - timedelta(days=1), datetime.min.time(),
                               UTC)
    for version in versions:
        version.submitted_at = on_time if version.submitted_at else None
    late_one = next(v for v in versions if v.submission.unit_id == w.villages[2].id)
    late_one.submitted_at = datetime.now(UTC)
    db.session.commit()
    area = completeness.area(Target(w.version.form, w.version, w.period, w.commune))
    late = {row.unit.id: row.late for row in area.villages}
    assert late == {w.villages[0].id: True, w.villages[1].id: True,  # never submitted
                    w.villages[2].id: True,  # submitted after the deadline
                    w.villages[3].id: False, w.villages[4].id: False}
    assert area.totals["late"] == 3
    assert [area.totals[s] for s in ("not_started", "draft", "submitted", "returned",
                                     "approved")] == [1, 1, 1, 1, 1]


def test_province_sees_communes_with_counts_and_report_state(app, world):
    w, _heads = world
    _user, commune = officer(app, "commune_officer", OTHER_COMMUNE)
    assert commune.post(w.report_url(w.others[0].parent, "/submit"),
                        data={"version": "0"}).status_code == 303
    _boss, client = officer(app, "province_officer", "12")
    html = client.get(url(w)).get_data(as_text=True)
    assert w.commune.name in html and w.others[0].parent.name in html
    assert w.villages[0].name not in html  # villages are behind the drill-down
    assert "Submitted to the level above" in html
    area = completeness.area(Target(w.version.form, w.version, w.period, unit("12")))
    rows = {row.unit.code: row for row in area.units}
    assert rows[COMMUNE].villages == 5
    assert rows[COMMUNE].counts["approved"] == 1 and rows[COMMUNE].report is None
    assert rows[OTHER_COMMUNE].report.state == "submitted"
    drill = client.get(url(w, unit=w.commune.id)).get_data(as_text=True)
    assert w.villages[0].name in drill and "Who to remind" in drill


def test_drill_down_outside_scope_is_403(app, world):
    w, _heads = world
    _user, client = officer(app, "commune_officer", COMMUNE)
    assert client.get(url(w, unit=w.others[0].parent.id)).status_code == 403
    assert client.get(url(w, unit=unit("12").id)).status_code == 403


def test_filters_answer_rows_for_htmx_and_survive_bad_values(app, world):
    w, _heads = world
    _user, client = officer(app, "commune_officer", COMMUNE)
    fragment = client.get(url(w), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and w.villages[0].name in fragment
    page = client.get("/reports/completeness?form=abc&period=zz&unit=x")
    assert page.status_code == 200
    assert "<html" in page.get_data(as_text=True)


def test_village_head_has_no_completeness(app, world):
    w, heads = world
    from tests.factories import browser

    assert browser(app, heads[0]).get(url(w)).status_code == 403


def test_pre_reform_period_shows_districts_then_communes(app):
    old = make_old_world()
    put(old.version, old.villages["ZZH1"][0], old.period, village_values(1))
    _boss, client = officer(app, "province_officer", "12")
    html = client.get(f"/reports/completeness?form={old.version.form_id}"
                      f"&period={old.period.id}").get_data(as_text=True)
    assert old.district.name in html
    assert f"— <a href=\"/reports/completeness?form={old.version.form_id}" in html
    area = completeness.area(Target(old.version.form, old.version, old.period, unit("12")))
    rows = [(r.unit.code, r.depth, r.villages) for r in area.units if r.unit.code
            .startswith("ZZH")]
    assert rows == [("ZZH", 0, 4), ("ZZH1", 1, 2), ("ZZH2", 1, 2)]
    # today's 03388 officer answers for ZZH1 (merged into 03388) in 2025-Q1
    _user, commune = officer(app, "commune_officer", COMMUNE)
    mine = commune.get(f"/reports/completeness?form={old.version.form_id}"
                       f"&period={old.period.id}").get_data(as_text=True)
    assert old.villages["ZZH1"][0].name in mine
    assert old.villages["ZZH2"][0].name not in mine
    assert old.period.end_date == date(2025, 3, 31)

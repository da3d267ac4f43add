"""Levels follow the units valid in the period: 2025-Q1 is reported village → commune →
district → province; since 2025-07-01 village → commune → province."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dantoc.reports import aggregate, queries, states
from dantoc.reports.queries import Target
from tests.factories import make_period, officer, unit
from tests.test_reports_support import (
    COMMUNE,
    audit_actions,
    counts,
    make_old_world,
    put,
    report_of,
    snapshot,
    village_values,
)


@pytest.fixture
def old(app):
    """2025-Q1 with every village of ZZH1 approved and ZZH2's villages pending."""
    w = make_old_world()
    for n, village in enumerate(w.villages["ZZH1"], start=1):
        put(w.version, village, w.period, village_values(10 * n, n, n))
    put(w.version, w.villages["ZZH2"][0], w.period, village_values(500), state="submitted")
    return w


def submit(client, w, target, version=0, reasons=None):
    data = {"version": str(version)} | {f"missing_{u.id}": r for u, r in (reasons or {}).items()}
    return client.post(w.report_url(target, "/submit"), data=data)


def test_reference_day_and_tree_of_a_period(old):
    assert queries.reference_day(old.period) == date(2025, 3, 31)
    commune = queries.target(old.version.form.code, old.period.code, old.communes[0].id)
    assert [c.unit.code for c in queries.child_states(commune)] == ["ZZH1-V1", "ZZH1-V2"]
    district = queries.target(old.version.form.code, old.period.code, old.district.id)
    children = queries.child_states(district)
    assert [(c.unit.code, c.is_village) for c in children] == [("ZZH1", False),
                                                                ("ZZH2", False)]
    province = Target(old.version.form, old.version, old.period, unit("12"))
    assert "ZZH" in {c.unit.code for c in queries.child_states(province)}
    # today's commune 03388 did not exist in 2025-Q1: no report of it for that period
    assert queries.target(old.version.form.code, old.period.code, unit(COMMUNE).id) is None


def test_after_the_reform_the_commune_sits_directly_under_the_province(old):
    period = make_period("2025-Q3", period_type="quarter", start=date(2025, 7, 1),
                         end=date(2025, 9, 30))
    assert queries.target(old.version.form.code, period.code, old.communes[0].id) is None
    t = queries.target(old.version.form.code, period.code, unit(COMMUNE).id)
    assert t is not None and t.unit.parent.code == "12"


def test_commune_report_of_2025_q1_goes_to_the_district_level(app, old):
    # the officer of today's 03388 answers for ZZH1, which merged into it
    _user, commune = officer(app, "commune_officer", COMMUNE)
    assert submit(commune, old, old.communes[1], reasons={
        old.villages["ZZH2"][0]: "x", old.villages["ZZH2"][1]: "y"}).status_code == 403
    assert submit(commune, old, old.communes[0]).status_code == 303
    report = report_of(old.version, old.communes[0], old.period)
    assert commune.post(f"/reports/{report.id}/approve",
                        data={"version": "1"}).status_code == 403
    _district_user, district = officer(app, "commune_officer", scope=old.district)
    html = district.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'id="approve-report"' in html
    assert district.post(f"/reports/{report.id}/approve",
                         data={"version": "1"}).status_code == 303
    assert snapshot(report)[:2] == (states.APPROVED, 2)


def test_district_report_needs_its_communes_and_goes_to_the_province(app, old):
    _user, commune = officer(app, "commune_officer", COMMUNE)
    assert submit(commune, old, old.communes[0]).status_code == 303
    first = report_of(old.version, old.communes[0], old.period)
    _a, province_a = officer(app, "province_officer", "12")
    _b, province_b = officer(app, "province_officer", "12")
    assert province_a.post(f"/reports/{first.id}/approve",
                           data={"version": "1"}).status_code == 303
    # ZZH2 has no report yet: the district report needs it named
    refused = submit(province_a, old, old.district)
    assert refused.status_code == 422
    assert old.communes[1].name in refused.get_data(as_text=True)
    assert counts()["reports"] == 1
    # districts no longer exist: the province submits for it, naming ZZH2
    assert submit(province_a, old, old.district,
                  reasons={old.communes[1]: "Xã chưa nộp"}).status_code == 303
    district = report_of(old.version, old.district, old.period)
    assert district.missing_note[0]["unit_id"] == old.communes[1].id
    assert district.sources == []  # a district's figures come from its approved communes
    # four eyes: the officer who submitted cannot decide
    own = province_a.post(f"/reports/{district.id}/approve", data={"version": "1"})
    assert own.status_code == 403
    assert "another officer" in own.get_data(as_text=True)
    # the district report is up: the communes below are frozen
    frozen = province_b.post(f"/reports/{first.id}/reopen",
                             data={"version": "2", "reason": "Sai"})
    assert frozen.status_code == 409
    assert "level above has been submitted" in frozen.get_data(as_text=True)
    assert province_b.post(f"/reports/{district.id}/approve",
                           data={"version": "1"}).status_code == 303
    assert audit_actions() == ["report.submit", "report.approve", "report.submit",
                               "report.approve"]
    province = Target(old.version.form, old.version, old.period, unit("12"))
    total = aggregate.compute(province)
    assert total.value("households") == Decimal(30)  # ZZH1-V1 10 + ZZH1-V2 20; ZZH2 not
    assert total.counted_through(old.district.id) == 2


def test_province_may_decide_a_commune_report_when_no_district_officer_exists(app, old):
    _user, commune = officer(app, "commune_officer", COMMUNE)
    assert submit(commune, old, old.communes[0]).status_code == 303
    report = report_of(old.version, old.communes[0], old.period)
    _boss, province = officer(app, "province_officer", "12")
    assert province.post(f"/reports/{report.id}/return",
                         data={"version": "1", "reason": "Kiểm tra lại"}).status_code == 303
    assert snapshot(report)[:3] == (states.RETURNED, 2, "Kiểm tra lại")


def test_province_cannot_submit_a_current_communes_report(app, old):
    _boss, province = officer(app, "province_officer", "12")
    assert submit(province, old, old.communes[0]).status_code == 403
    assert counts()["reports"] == 0

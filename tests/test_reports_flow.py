"""The commune report: submit (naming pending villages), approve or return by the province,
resubmit, reopen; bad input (pending, no authority, stale version, no reason) changes
nothing."""

from __future__ import annotations

import uuid

import pytest

from dantoc.extensions import db
from dantoc.reports import states
from tests.factories import browser, make_village_head, officer, post, typical_answers
from tests.test_reports_support import (
    COMMUNE,
    OTHER_COMMUNE,
    audit_actions,
    counts,
    make_world,
    put,
    report_of,
    snapshot,
    village_values,
)


@pytest.fixture
def world(app):
    """Three villages of 03388: two approved, one only submitted; two of 03637 approved."""
    w = make_world()
    put(w.version, w.villages[0], w.period, village_values(10, 20, 30))
    put(w.version, w.villages[1], w.period, village_values(5, 7, 9))
    put(w.version, w.villages[2], w.period, village_values(100, 1, 1), state="submitted")
    for village in w.others:
        put(w.version, village, w.period, village_values(1000, 1000, 1000))
    return w


@pytest.fixture
def commune(app):
    return officer(app, "commune_officer", COMMUNE)


@pytest.fixture
def province(app):
    return officer(app, "province_officer", "12")


def submit(client, w, reasons: dict | None = None, version: int = 0):
    data = {"version": str(version)}
    data.update({f"missing_{u.id}": text for u, text in (reasons or {}).items()})
    return client.post(w.report_url(w.commune, "/submit"), data=data)


def submitted_report(w, client):
    response = submit(client, w, {w.villages[2]: "Đang chờ sửa số liệu"})
    assert response.status_code == 303, response.get_data(as_text=True)
    return report_of(w.version, w.commune, w.period)


def test_the_open_report_page_offers_submit_with_one_reason_per_pending_village(world,
                                                                                commune):
    _user, client = commune
    html = client.get(world.report_url(world.commune)).get_data(as_text=True)
    assert 'id="submit-report"' in html
    assert f'name="missing_{world.villages[2].id}"' in html
    for approved in world.villages[:2]:
        assert f'name="missing_{approved.id}"' not in html
    assert "Approve the report" not in html
    assert counts() == {"reports": 0, "sources": 0, "audit": 0}  # a GET writes nothing


def test_submit_refused_while_a_village_is_pending_and_unnamed(world, commune):
    _user, client = commune
    response = submit(client, world)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was submitted" in html and world.villages[2].name in html
    assert f'id="missing_{world.villages[2].id}-err"' in html
    assert counts() == {"reports": 0, "sources": 0, "audit": 0}
    blank = submit(client, world, {world.villages[2]: "   "})
    assert blank.status_code == 422
    assert counts() == {"reports": 0, "sources": 0, "audit": 0}


def test_submit_with_the_pending_village_named_carries_only_approved_data(world, commune):
    user, client = commune
    report = submitted_report(world, client)
    assert (report.state, report.version, report.submitted_by_id) == (
        states.SUBMITTED, 1, user.id)
    assert report.missing_note == [{"unit_id": world.villages[2].id,
                                    "code": world.villages[2].code,
                                    "name": world.villages[2].name, "state": "submitted",
                                    "reason": "Đang chờ sửa số liệu"}]
    assert sorted(s.submission.unit_id for s in report.sources) == sorted(
        v.id for v in world.villages[:2])
    assert audit_actions() == ["report.submit"]
    html = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Đang chờ sửa số liệu" in html
    assert "waiting for the decision of the level above" in html
    assert 'id="submit-report"' not in html


def test_province_approves_and_the_report_locks(world, commune, province):
    _user, client = commune
    report = submitted_report(world, client)
    _boss, theirs = province
    page = theirs.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'id="approve-report"' in page and 'id="return-report"' in page
    response = theirs.post(f"/reports/{report.id}/approve", data={"version": "1"})
    assert response.status_code == 303
    assert snapshot(report)[:2] == (states.APPROVED, 2)
    assert audit_actions() == ["report.submit", "report.approve"]
    mine = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "approved and is locked" in mine
    assert 'id="submit-report"' not in mine
    again = theirs.post(f"/reports/{report.id}/approve", data={"version": "2"})
    assert again.status_code == 409
    assert audit_actions() == ["report.submit", "report.approve"]


def test_return_needs_a_reason_then_the_commune_resubmits(world, commune, province):
    _user, client = commune
    report = submitted_report(world, client)
    _boss, theirs = province
    for reason in ("", "   "):
        refused = theirs.post(f"/reports/{report.id}/return",
                              data={"version": "1", "reason": reason})
        assert refused.status_code == 422
        assert "Please say why" in refused.get_data(as_text=True)
    assert snapshot(report)[:2] == (states.SUBMITTED, 1)
    returned = theirs.post(f"/reports/{report.id}/return",
                           data={"version": "1", "reason": "Thiếu bản 3"})
    assert returned.status_code == 303
    assert snapshot(report)[:3] == (states.RETURNED, 2, "Thiếu bản 3")
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Thiếu bản 3" in page and 'id="submit-report"' in page
    assert "Đang chờ sửa số liệu" in page  # the reason given last time is prefilled
    again = submit(client, world, {world.villages[2]: "Vẫn chờ"}, version=2)
    assert again.status_code == 303
    assert snapshot(report)[:3] == (states.SUBMITTED, 3, None)
    assert audit_actions() == ["report.submit", "report.return", "report.submit"]


def test_reopen_an_approved_report_needs_a_reason(world, commune, province):
    _user, client = commune
    report = submitted_report(world, client)
    _boss, theirs = province
    theirs.post(f"/reports/{report.id}/approve", data={"version": "1"})
    assert theirs.post(f"/reports/{report.id}/reopen",
                       data={"version": "2", "reason": ""}).status_code == 422
    response = theirs.post(f"/reports/{report.id}/reopen",
                           data={"version": "2", "reason": "Bản 3 đã nộp"})
    assert response.status_code == 303
    assert snapshot(report)[:3] == (states.RETURNED, 3, "Bản 3 đã nộp")
    assert audit_actions() == ["report.submit", "report.approve", "report.reopen"]


def test_stale_version_gets_409_and_changes_nothing(world, commune, province):
    _user, client = commune
    report = submitted_report(world, client)
    _boss, theirs = province
    before = counts()
    for url, data in ((f"/reports/{report.id}/approve", {"version": "0"}),
                      (f"/reports/{report.id}/return", {"version": "2", "reason": "x"})):
        response = theirs.post(url, data=data)
        assert response.status_code == 409
        assert "Nothing was changed" in response.get_data(as_text=True)
    stale_submit = submit(client, world, {world.villages[2]: "x"}, version=0)
    assert stale_submit.status_code == 409
    assert counts() == before
    assert snapshot(report)[:2] == (states.SUBMITTED, 1)


@pytest.mark.parametrize("who", ["own_commune", "other_commune", "village_head",
                                 "department_officer"])
def test_deciding_without_authority_is_403(app, world, commune, who):
    _user, client = commune
    report = submitted_report(world, client)
    if who == "own_commune":
        actor = client
    elif who == "other_commune":
        actor = officer(app, "commune_officer", OTHER_COMMUNE)[1]
    elif who == "village_head":
        actor = browser(app, make_village_head(world.villages[0]))
    else:
        actor = officer(app, "department_officer", "12")[1]
    before = counts()
    for action, data in (("approve", {"version": "1"}),
                         ("return", {"version": "1", "reason": "Sai"}),
                         ("reopen", {"version": "1", "reason": "Sai"})):
        assert actor.post(f"/reports/{report.id}/{action}", data=data).status_code == 403
    assert snapshot(report)[:2] == (states.SUBMITTED, 1)
    assert counts()["reports"] == before["reports"]
    assert audit_actions() == ["report.submit"]


def test_own_commune_officer_is_told_why(world, commune):
    _user, client = commune
    report = submitted_report(world, client)
    response = client.post(f"/reports/{report.id}/approve", data={"version": "1"})
    assert response.status_code == 403
    assert "Only an officer of a level above" in response.get_data(as_text=True)


@pytest.mark.parametrize("role, scope", [("commune_officer", OTHER_COMMUNE),
                                         ("province_officer", "12")])
def test_submitting_another_units_report_is_403(app, world, role, scope):
    _user, client = officer(app, role, scope)
    response = submit(client, world, {world.villages[2]: "x"})
    assert response.status_code == 403
    assert counts() == {"reports": 0, "sources": 0, "audit": 0}


def test_village_head_cannot_see_or_submit_reports(app, world):
    client = browser(app, make_village_head(world.villages[0]))
    assert client.get(world.report_url(world.commune)).status_code == 403
    assert submit(client, world, {world.villages[2]: "x"}).status_code == 403
    assert counts()["reports"] == 0


def test_other_commune_officer_cannot_view_the_report(app, world, commune):
    _user, client = commune
    report = submitted_report(world, client)
    _other, theirs = officer(app, "commune_officer", OTHER_COMMUNE)
    assert theirs.get(f"/reports/{report.id}").status_code == 403
    assert theirs.get(world.report_url(world.commune)).status_code == 403


def test_page_says_why_it_is_locked(world, commune, province):
    _boss, theirs = province
    html = theirs.get(world.report_url(world.commune)).get_data(as_text=True)
    assert "have not submitted this report yet" in html
    assert 'id="approve-report"' not in html and 'id="submit-report"' not in html
    top = theirs.get(world.report_url(world.province)).get_data(as_text=True)
    assert "This is the top level" in top


def test_closed_period_refuses_a_first_submission(app, world, commune):
    from datetime import timedelta

    from dantoc.clock import today

    world.period.opens_on = today() - timedelta(days=120)
    world.period.closes_on = today() - timedelta(days=31)  # past the 30 grace days
    db.session.commit()
    _user, client = commune
    html = client.get(world.report_url(world.commune)).get_data(as_text=True)
    assert "can no longer be submitted" in html and 'id="submit-report"' not in html
    response = submit(client, world, {world.villages[2]: "x"})
    assert response.status_code == 409
    assert "can no longer be submitted" in response.get_data(as_text=True)
    assert counts() == {"reports": 0, "sources": 0, "audit": 0}


def test_unknown_targets_are_404(world, commune):
    _user, client = commune
    assert client.get(f"/reports/{world.version.form.code}/1999/{world.commune.id}"
                      ).status_code == 404
    assert client.get(world.report_url(world.villages[0])).status_code == 404
    assert client.get("/reports/999999").status_code == 404
    assert client.post("/reports/999999/approve", data={"version": "1"}).status_code == 404


def test_malformed_version_is_400(world, commune):
    _user, client = commune
    response = client.post(world.report_url(world.commune, "/submit"), data={"version": "x"})
    assert response.status_code == 400
    assert counts()["reports"] == 0


def test_end_to_end_through_entry_and_review(app, commune, province):
    """A village head submits through the entry form, the commune approves it in review,
    submits the commune report, the province approves: the province total is that value."""
    w = make_world(villages=1, others=0)
    head = make_village_head(w.villages[0])
    entry = browser(app, head)
    url = f"/entry/{w.villages[0].id}/{w.version.form.code}/{w.period.code}"
    assert post(entry, url, typical_answers(w.version), key=str(uuid.uuid4())
                ).status_code in (201, 303)
    from dantoc.submissions.models import Submission

    submission = db.session.scalar(db.select(Submission))
    _user, client = commune
    assert client.post(f"/review/{submission.client_uuid}/approve",
                       data={"version": "1"}).status_code == 303
    assert submit(client, w).status_code == 303
    report = report_of(w.version, w.commune, w.period)
    _boss, theirs = province
    assert theirs.post(f"/reports/{report.id}/approve", data={"version": "1"}).status_code == 303
    html = theirs.get(w.report_url(w.province)).get_data(as_text=True)
    assert "<td class=\"num\">42</td>" in html  # households typed by the village head

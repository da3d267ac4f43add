"""Commune review: the inbox in scope, the review page, approve and return with a reason."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.review.queries import big_change
from dantoc.submissions import services
from dantoc.submissions.checks import Cell
from dantoc.submissions.formbuilder import load_spec
from dantoc.submissions.models import Submission
from tests.factories import (
    make_officer,
    make_period,
    make_village,
    make_village_head,
    post,
    sign_in_as,
    submit_report,
    typical_answers,
)


def transitions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.in_(("submission.approve", "submission.return")))
        .order_by(AuditEvent.id)))


@pytest.fixture
def review(app, entry):
    """A submitted report of the entry village and a signed-in officer of its commune."""
    submission = submit_report(entry)
    user, client = make_officer(app)
    return submission, user, client


def test_inbox_lists_villages_in_scope_only(app, entry, review):
    submission, _user, client = review
    other = make_village(commune_code="03391")
    head = make_village_head(other)
    theirs = sign_in_as(app, head)
    post(theirs, f"/entry/{other.id}/{entry.version.form.code}/{entry.period.code}",
         typical_answers(entry.version), key=str(uuid.uuid4()))
    html = client.get("/review/").get_data(as_text=True)
    assert str(submission.client_uuid) in html
    assert other.name not in html
    assert entry.village.name in html


def test_inbox_filters_by_state_and_answers_rows_for_htmx(entry, review):
    submission, _user, client = review
    html = client.get("/review/?state=approved").get_data(as_text=True)
    assert str(submission.client_uuid) not in html
    rows = client.get("/review/?state=submitted", headers={"HX-Request": "true"})
    text = rows.get_data(as_text=True)
    assert str(submission.client_uuid) in text and "<html" not in text
    period = make_period("2025", period_type=entry.version.period_type)
    html = client.get(f"/review/?period={period.id}").get_data(as_text=True)
    assert str(submission.client_uuid) not in html


def test_drafts_are_not_in_the_inbox(app, entry):
    post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()), action="draft")
    _user, client = make_officer(app)
    assert entry.village.name not in client.get("/review/").get_data(as_text=True)


def test_review_page_flags_big_changes_against_last_period(app, entry):
    last = make_period("2025", period_type=entry.version.period_type)
    households = load_spec(entry.version).by_code()["households"]
    target = services.Target(entry.version, entry.village, last)
    services.submit(target, uuid.uuid4(), 0, {}, [Cell(households, "", Decimal(10))],
                    entry.user)
    db.session.commit()
    submission = submit_report(entry)  # 42 households now: +320 %
    _user, client = make_officer(app)
    html = client.get(f"/review/{submission.client_uuid}").get_data(as_text=True)
    assert "Big change" in html
    assert html.count('class="flagged"') == 1


def test_review_page_shows_rule_violations(app, entry):
    submission = submit_report(entry)
    db.session.execute(sa.text("UPDATE submission_values SET value_numeric = 99 WHERE "
                               "indicator_id = :i"),
                       {"i": next(i.indicator_id for s in entry.version.sections
                                  for i in s.items if i.indicator.code == "poor_households")})
    db.session.commit()
    _user, client = make_officer(app)
    html = client.get(f"/review/{submission.client_uuid}").get_data(as_text=True)
    assert "Số hộ nghèo không được lớn hơn tổng số hộ." in html


@pytest.mark.parametrize("value, previous, flagged", [
    (Decimal(16), Decimal(10), True), (Decimal(15), Decimal(10), False),
    (Decimal(1), Decimal(0), True), (Decimal(0), Decimal(0), False),
    (Decimal(4), None, False), ("text", "other", False)])
def test_big_change_threshold(value, previous, flagged):
    assert big_change(value, previous, Decimal("0.5")) is flagged


def test_approve_locks_and_audits_once(entry, review):
    submission, user, client = review
    response = client.post(f"/review/{submission.client_uuid}/approve",
                           data={"version": submission.current_version})
    assert response.status_code == 303
    db.session.refresh(submission)
    assert submission.state == "approved"
    assert transitions() == ["submission.approve"]
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "submission.approve"))
    assert event.actor_id == user.id and event.after["state"] == "approved"
    again = client.post(f"/review/{submission.client_uuid}/approve",
                        data={"version": submission.current_version})
    assert again.status_code == 409 and transitions() == ["submission.approve"]


def test_return_with_reason_reaches_the_village_head(entry, review):
    submission, _user, client = review
    response = client.post(f"/review/{submission.client_uuid}/return",
                           data={"version": submission.current_version,
                                 "reason": "Kiểm tra lại số hộ nghèo"})
    assert response.status_code == 303
    db.session.refresh(submission)
    assert (submission.state, submission.state_reason) == ("returned",
                                                          "Kiểm tra lại số hộ nghèo")
    assert transitions() == ["submission.return"]
    assert "Kiểm tra lại số hộ nghèo" in entry.client.get("/entry/").get_data(as_text=True)


@pytest.mark.parametrize("reason", ["", "   "])
def test_return_without_reason_is_a_field_error_and_changes_nothing(entry, review, reason):
    submission, _user, client = review
    response = client.post(f"/review/{submission.client_uuid}/return",
                           data={"version": submission.current_version, "reason": reason})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Please say why the report is returned." in html and 'aria-invalid="true"' in html
    db.session.refresh(submission)
    assert submission.state == "submitted" and transitions() == []


@pytest.mark.parametrize("action, data", [("approve", {}),
                                          ("return", {"reason": "Sai số liệu"})])
def test_stale_version_is_409_and_changes_nothing(entry, review, action, data):
    submission, _user, client = review
    response = client.post(f"/review/{submission.client_uuid}/{action}",
                           data={"version": submission.current_version + 1, **data})
    assert response.status_code == 409
    assert "Nothing was changed" in response.get_data(as_text=True)
    db.session.refresh(submission)
    assert submission.state == "submitted" and transitions() == []


@pytest.mark.parametrize("role, commune", [("department_officer", "03388"),
                                           ("commune_officer", "03391"),
                                           ("village_head", None)])
def test_approving_without_authority_is_403(app, entry, role, commune):
    submission = submit_report(entry)
    if role == "village_head":
        client = entry.client
    else:
        _user, client = make_officer(app, commune, role)
    response = client.post(f"/review/{submission.client_uuid}/approve",
                           data={"version": submission.current_version})
    assert response.status_code == 403
    db.session.refresh(submission)
    assert submission.state == "submitted" and transitions() == []


def test_nav_links_to_the_inbox_for_reviewers_only(app, entry, review):
    _s, _user, client = review
    assert 'href="/review/"' in client.get("/review/").get_data(as_text=True)
    assert 'href="/review/"' not in entry.client.get("/entry/").get_data(as_text=True)


def test_form_page_shows_the_return_reason(entry, review):
    submission, _user, client = review
    client.post(f"/review/{submission.client_uuid}/return",
                data={"version": submission.current_version, "reason": "Thiếu số nhân khẩu"})
    html = entry.client.get(entry.url).get_data(as_text=True)
    assert "Returned for correction:" in html and "Thiếu số nhân khẩu" in html


def _second_report(app, entry) -> Submission:
    other = make_village()
    head = make_village_head(other)
    url = f"/entry/{other.id}/{entry.version.form.code}/{entry.period.code}"
    post(sign_in_as(app, head), url, typical_answers(entry.version, poor_households="99"),
         key=str(uuid.uuid4()), action="draft")
    poor = next(i.indicator_id for s in entry.version.sections for i in s.items
                if i.indicator.code == "poor_households")
    submission = db.session.scalar(sa.select(Submission).where(Submission.unit_id == other.id))
    post(sign_in_as(app, head), url, typical_answers(entry.version), key=str(
        submission.client_uuid))
    db.session.execute(sa.text("UPDATE submission_values SET value_numeric = 99 WHERE "
                               "indicator_id = :i AND version_id IN (SELECT id FROM "
                               "submission_versions WHERE submission_id = :s)"),
                       {"i": poor, "s": submission.id})
    db.session.commit()
    return submission


def test_bulk_approval_approves_only_clean_current_reports(app, entry, review):
    clean, _user, client = review
    flagged = _second_report(app, entry)
    items = [f"{clean.client_uuid}:{clean.current_version}", f"{flagged.client_uuid}:1",
             f"{clean.client_uuid}:7", "not-a-uuid:1"]
    inbox = client.get("/review/").get_data(as_text=True)
    assert f'value="{clean.client_uuid}:1"' in inbox
    response = client.post("/review/approve-clean", data={"items": items})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 reports approved; 2 left for review" in html  # the malformed tick is ignored
    states = dict(db.session.execute(sa.select(Submission.id, Submission.state)
                                     .execution_options(populate_existing=True)).tuples().all())
    assert states == {clean.id: "approved", flagged.id: "submitted"}
    assert transitions() == ["submission.approve"]


def test_bulk_approval_skips_reports_outside_scope(app, entry):
    submission = submit_report(entry)
    _user, client = make_officer(app, "03391")
    client.post("/review/approve-clean",
                data={"items": [f"{submission.client_uuid}:{submission.current_version}"]})
    db.session.refresh(submission)
    assert submission.state == "submitted" and transitions() == []

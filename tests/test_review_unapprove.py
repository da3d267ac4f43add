"""Un-approving: a separate audited action with a required reason, by the commune only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.clock import today
from dantoc.extensions import db
from dantoc.indicators.models import Period
from tests.factories import (
    html_of,
    make_officer,
    make_village,
    reload_report,
    review_actions,
    submit_report,
)


@pytest.fixture
def approved(app, entry):
    """The entry village's report approved by an officer of its commune (signed in)."""
    submission = submit_report(entry)
    user, client = make_officer(app)
    response = client.post(f"/review/{submission.client_uuid}/approve",
                           data={"version": submission.current_version})
    assert response.status_code == 303
    return reload_report(entry), user, client


def _unapprove(client, submission, reason="Số hộ nghèo cần xem lại", version=None):
    return client.post(f"/review/{submission.client_uuid}/unapprove",
                       data={"version": version or submission.current_version,
                             "reason": reason})


def test_unapprove_is_audited_keeps_the_reason_and_the_report_can_be_approved_again(
        entry, approved):
    submission, user, client = approved
    response = _unapprove(client, submission)
    assert response.status_code == 303
    submission = reload_report(entry)
    assert (submission.state, submission.current_version, submission.state_reason) == (
        "submitted", 1, "Số hộ nghèo cần xem lại")
    assert review_actions() == ["submission.approve", "submission.unapprove"]
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "submission.unapprove"))
    assert event.actor_id == user.id and event.object_id == str(submission.id)
    assert event.before["state"] == "approved" and event.before["version"] == 1
    assert event.after == {"state": "submitted", "version": 1,
                           "reason": "Số hộ nghèo cần xem lại"}
    receipt = entry.client.get(f"/entry/receipt/{submission.client_uuid}")
    assert ("The commune withdrew its approval: Số hộ nghèo cần xem lại"
            in receipt.get_data(as_text=True))
    page = client.get(f"/review/{submission.client_uuid}").get_data(as_text=True)
    assert "Approval withdrawn:" in page and "Số hộ nghèo cần xem lại" in page
    assert f"/review/{submission.client_uuid}/approve" in page  # decide again
    again = client.post(f"/review/{submission.client_uuid}/approve", data={"version": 1})
    assert again.status_code == 303
    submission = reload_report(entry)
    assert (submission.state, submission.state_reason) == ("approved", None)
    assert review_actions() == ["submission.approve", "submission.unapprove",
                                "submission.approve"]


def test_after_unapprove_the_officer_can_return_it(entry, approved):
    submission, _user, client = approved
    _unapprove(client, submission)
    response = client.post(f"/review/{submission.client_uuid}/return",
                           data={"version": 1, "reason": "Sửa số hộ nghèo"})
    assert response.status_code == 303
    assert reload_report(entry).state == "returned"
    assert "Sửa số hộ nghèo" in entry.client.get("/entry/").get_data(as_text=True)


@pytest.mark.parametrize("reason", ["", "   "])
def test_unapprove_without_a_reason_is_422_and_changes_nothing(entry, approved, reason):
    submission, _user, client = approved
    response = _unapprove(client, submission, reason=reason)
    assert response.status_code == 422
    page = html_of(response)
    assert page.attrs("reason").get("aria-invalid") == "true"
    assert page.text("reason-err") == "Please say why the approval is withdrawn."
    assert reload_report(entry).state == "approved"
    assert review_actions() == ["submission.approve"]


def test_unapprove_of_a_stale_version_is_409(entry, approved):
    submission, _user, client = approved
    response = _unapprove(client, submission, version=2)
    assert response.status_code == 409
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert reload_report(entry).state == "approved"
    assert review_actions() == ["submission.approve"]


def test_second_unapprove_of_the_same_approval_is_409(entry, approved):
    """Two officers withdraw the same approval: one wins, the other is told, one row."""
    submission, _user, client = approved
    assert _unapprove(client, submission).status_code == 303
    second = _unapprove(client, submission, reason="Lần nữa")
    assert second.status_code == 409
    assert reload_report(entry).state_reason == "Số hộ nghèo cần xem lại"
    assert review_actions() == ["submission.approve", "submission.unapprove"]


def test_unapprove_of_a_submitted_report_is_409(app, entry):
    submission = submit_report(entry)
    _user, client = make_officer(app)
    assert _unapprove(client, submission).status_code == 409
    assert reload_report(entry).state == "submitted" and review_actions() == []


@pytest.mark.parametrize("who", ["village_head", "other_commune_officer", "province_officer",
                                 "department_officer"])
def test_unapprove_without_authority_is_403(app, entry, approved, who):
    submission, _user, _client = approved
    if who == "village_head":
        client = entry.client
    elif who == "other_commune_officer":
        make_village(commune_code="03391")
        _other, client = make_officer(app, "03391")
    elif who == "province_officer":
        _other, client = make_officer(app, "12", "province_officer")
    else:
        _other, client = make_officer(app, "03388", "department_officer")
    response = _unapprove(client, submission)
    assert response.status_code == 403
    submission = reload_report(entry)
    assert (submission.state, submission.state_reason) == ("approved", None)
    assert review_actions() == ["submission.approve"]


def test_province_officer_is_told_why_they_cannot_unapprove(app, entry, approved):
    submission, _user, _client = approved
    _other, client = make_officer(app, "12", "province_officer")
    page = html_of(client.get(f"/review/{submission.client_uuid}"))
    assert page.attrs("lock")["data-lock"] == "no_authority"
    assert "for the officers of its commune" in page.text("lock")
    assert "unapprove" not in page.html


def test_commune_officer_sees_that_it_is_locked_and_is_offered_unapprove(entry, approved):
    submission, _user, client = approved
    page = html_of(client.get(f"/review/{submission.client_uuid}"))
    assert page.attrs("lock")["data-lock"] == "approved"
    assert "withdraw the approval with a reason" in page.text("lock")
    assert f'action="/review/{submission.client_uuid}/unapprove"' in page.html
    assert f'action="/review/{submission.client_uuid}/approve"' not in page.html


def test_unapprove_after_the_period_closed_is_refused_with_the_reason(entry, approved):
    submission, _user, client = approved
    period = db.session.get(Period, entry.period.id)
    period.opens_on, period.closes_on = today() - timedelta(days=60), today() - timedelta(days=1)
    db.session.commit()
    page = html_of(client.get(f"/review/{submission.client_uuid}"))
    assert page.attrs("lock")["data-lock"] == "period_closed"
    assert "can no longer be withdrawn" in page.text("lock")
    assert "/unapprove" not in page.html
    response = _unapprove(client, submission)
    assert response.status_code == 409
    assert "can no longer be withdrawn" in response.get_data(as_text=True)
    assert reload_report(entry).state == "approved"
    assert review_actions() == ["submission.approve"]

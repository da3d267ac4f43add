"""Idempotent submit: replays, conflicting resends, stale edits, concurrency, audit."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.refusal import Refusal
from dantoc.submissions import services
from dantoc.submissions.models import Submission, SubmissionValue, SubmissionVersion
from tests.factories import (
    HX,
    counts,
    entry_url,
    make_period,
    post,
    signed_in,
)

JSON = {"Accept": "application/json"}


def _submission() -> Submission:
    return db.session.scalar(sa.select(Submission).execution_options(populate_existing=True))


@pytest.mark.parametrize("headers", [{}, JSON, HX], ids=["html", "json", "htmx"])
def test_identical_resend_returns_the_original_and_creates_nothing(entry, headers):
    key = str(uuid.uuid4())
    first = post(entry.client, entry.url, entry.answers(), key=key, headers=headers)
    assert first.status_code in (201, 200, 303)
    after_first = counts()
    again = post(entry.client, entry.url, entry.answers(), key=key, headers=headers)
    assert counts() == after_first
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    if headers == JSON:
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.get_json() == first.get_json()
        assert first.get_json()["uuid"] == key and first.get_json()["version"] == 1
    elif headers == HX:
        assert again.status_code == 200 and key in again.get_data(as_text=True)
    else:
        assert again.status_code == 303
        assert again.headers["Location"] == first.headers["Location"]


def test_resend_with_the_numbers_spelled_differently_is_still_identical(entry):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(distance_km="12.50"), key=key)
    again = post(entry.client, entry.url, entry.answers(distance_km="12,5"), key=key,
                 headers=JSON)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("headers, status", [(JSON, 422), ({}, 422)], ids=["json", "html"])
def test_same_uuid_with_other_content_is_refused_and_overwrites_nothing(entry, headers,
                                                                       status):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    stored = {(v.indicator_id, v.disaggregation): v.value
              for v in db.session.scalars(sa.select(SubmissionValue))}
    before = counts()
    response = post(entry.client, entry.url, entry.answers(households="43"), key=key,
                    headers=headers)
    assert response.status_code == status
    if headers == JSON:
        assert response.get_json()["error"]["code"] == "uuid_conflict"
    else:
        assert "different answers" in response.get_data(as_text=True)
    assert counts() == before
    assert {(v.indicator_id, v.disaggregation): v.value
            for v in db.session.scalars(sa.select(SubmissionValue))} == stored


def _return(entry, reason: str = "Kiểm tra lại số hộ nghèo") -> Submission:
    submission = _submission()
    services.transition(submission, "return", entry.user, reason=reason)
    db.session.commit()
    return submission


def test_edit_after_return_carries_the_base_version_and_keeps_every_version(entry):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    _return(entry)
    page = entry.client.get(entry.url).get_data(as_text=True)
    assert 'name="base_version" type="hidden" value="1"' in page
    assert "Kiểm tra lại số hộ nghèo" in page
    assert 'value="42"' in page  # the returned version's answers are shown again
    response = post(entry.client, entry.url, entry.answers(poor_households="8"), key=key,
                    base=1, headers=JSON)
    assert response.status_code == 201 and response.get_json()["version"] == 2
    submission = _submission()
    assert (submission.state, submission.current_version) == ("submitted", 2)
    versions = db.session.scalars(sa.select(SubmissionVersion).order_by(
        SubmissionVersion.number)).all()
    assert [(v.number, v.base_version) for v in versions] == [(1, 0), (2, 1)]
    assert all(v.submitted_at and v.content_hash for v in versions)
    assert versions[0].content_hash != versions[1].content_hash
    poor = entry.name("poor_households")
    assert versions[0].payload[poor] == "9" and versions[1].payload[poor] == "8"


def test_edit_of_a_stale_version_is_409(entry):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    _return(entry)
    post(entry.client, entry.url, entry.answers(poor_households="8"), key=key, base=1)
    _return(entry, "Lần hai")
    before = counts()
    stale = post(entry.client, entry.url, entry.answers(poor_households="7"), key=key, base=1,
                 headers=JSON)
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "stale"
    assert stale.get_json()["error"]["current_version"] == 2
    assert counts() == before
    replay = post(entry.client, entry.url, entry.answers(poor_households="8"), key=key, base=1,
                  headers=JSON)
    assert replay.status_code == 200  # the version that did land is still a replay


def test_submitted_report_is_locked_until_returned(entry):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    draft = post(entry.client, entry.url, entry.answers(households="50"), key=key, base=1,
                 action="draft", headers=JSON)
    assert draft.status_code == 409
    assert draft.get_json()["error"]["code"] == "locked"


def test_approved_report_cannot_be_changed(entry):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    services.transition(_submission(), "approve", entry.user)
    db.session.commit()
    response = post(entry.client, entry.url, entry.answers(households="50"), key=key, base=1)
    assert response.status_code == 409
    assert "approved" in response.get_data(as_text=True)


def test_second_uuid_for_the_same_village_and_period_is_refused(entry):
    post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()), action="draft")
    response = post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()),
                    headers=JSON)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_started"
    assert counts()["submissions"] == 1


@pytest.mark.parametrize("action", ["submit", "draft"])
def test_uuid_of_another_period_is_refused_for_a_new_report(entry, action):
    """A new report is inserted without looking its UUID up first (the view read the
    target's submission: none): a UUID already used for another period still fails, on
    the unique constraint, and nothing of the second period is written."""
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    before = counts()
    other = make_period("2027", period_type=entry.version.period_type)
    url = entry_url(entry.village, entry.version, other)
    response = post(entry.client, url, entry.answers(), key=key, action=action, headers=JSON)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "uuid_conflict"
    assert counts() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission).where(
        Submission.period_id == other.id)) == 0


def test_every_state_change_has_one_audit_row_in_the_same_transaction(entry):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key, action="draft")
    post(entry.client, entry.url, entry.answers(), key=key)
    post(entry.client, entry.url, entry.answers(), key=key)  # replay: no audit row
    _return(entry)
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.like("submission.%")).order_by(AuditEvent.id)).all()
    assert actions == ["submission.draft", "submission.submit", "submission.return"]
    submit = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "submission.submit"))
    assert submit.after["uuid"] == key and submit.before == {"state": "draft", "version": 0}
    assert submit.actor_id == entry.user.id


@pytest.mark.parametrize("action, reason", [("return", ""), ("approve", None)])
def test_review_transitions_need_a_submitted_report(entry, action, reason):
    post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()), action="draft")
    with pytest.raises(Refusal):
        services.transition(_submission(), action, entry.user, reason=reason)


def test_return_needs_a_reason(entry):
    post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()))
    with pytest.raises(Refusal) as refused:
        services.transition(_submission(), "return", entry.user, reason="  ")
    assert refused.value.code == "reason_required"


def _concurrent_posts(app, entry, data: dict, n: int, headers: dict) -> list[int]:
    """Send ``data`` from ``n`` signed-in clients at the same moment; return the statuses."""
    db.session.rollback()  # the test's own session must not hold SQLite's write lock
    clients = [signed_in(app.test_client(), entry.user) for _ in range(n)]
    db.session.rollback()  # nor may a transaction left open by loading the user
    barrier, statuses = threading.Barrier(n), []

    def send(client):
        barrier.wait()
        statuses.append(client.post(entry.url, data=data, headers=headers).status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.mark.parametrize("draft_first", [False, True], ids=["new", "over-draft"])
def test_concurrent_identical_submits_make_exactly_one_row(app, entry, draft_first):
    key = str(uuid.uuid4())
    if draft_first:
        post(entry.client, entry.url, entry.answers(), key=key, action="draft")
    data = {"uuid": key, "base_version": "0", "action": "submit", **entry.answers()}
    statuses = _concurrent_posts(app, entry, data, 6, JSON)
    db.session.expire_all()
    assert sorted(statuses).count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}, statuses
    assert counts()["submissions"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionVersion)
                             .where(SubmissionVersion.submitted_at.is_not(None))) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "submission.submit")) == 1

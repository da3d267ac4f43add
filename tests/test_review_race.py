"""Approve versus return on the same submitted version: exactly one wins, the loser gets 409."""

from __future__ import annotations

import threading
import uuid

import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.submissions.models import Submission
from tests.factories import PASSWORD, make_user
from tests.factories_submissions import entry_fixture, post  # noqa: F401  ("entry" fixture)

RUNS = 50


def _officer_clients(app, n: int) -> list:
    clients = []
    for _ in range(n):
        user = make_user("commune_officer", unit_code="03388")
        user.locale = "en"  # the assertions read the English msgids
        db.session.commit()
        client = app.test_client()
        client.post("/accounts/login", data={"username": user.username, "password": PASSWORD})
        clients.append(client)
    return clients


def _transitions() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(("submission.approve", "submission.return"))))


def _race(clients, key: str, version: int) -> list[tuple[int, str]]:
    barrier, statuses = threading.Barrier(2), []
    requests = [("approved", f"/review/{key}/approve", {"version": version}),
                ("returned", f"/review/{key}/return", {"version": version, "reason": "Sai"})]

    def send(client, outcome, url, data):
        barrier.wait()
        response = client.post(url, data=data)
        if response.status_code == 409:
            assert "Nothing was changed" in response.get_data(as_text=True)
        statuses.append((response.status_code, outcome))

    threads = [threading.Thread(target=send, args=(c, *r)) for c, r in zip(clients, requests,
                                                                              strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _reopen(submission: Submission) -> None:
    """Put the report back to submitted for the next run (test set-up, not a transition)."""
    db.session.execute(sa.update(Submission).where(Submission.id == submission.id)
                       .values(state="submitted", state_reason=None))
    db.session.commit()


def test_approve_versus_return_has_exactly_one_winner(app, entry):
    post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()))
    submission = db.session.scalar(sa.select(Submission))
    key, version = str(submission.client_uuid), submission.current_version
    clients = _officer_clients(app, 2)
    outcomes = []
    for _run in range(RUNS):
        before = _transitions()
        db.session.rollback()  # the test's session must hold no lock during the race
        statuses = _race(clients, key, version)
        db.session.expire_all()
        state = db.session.scalar(sa.select(Submission.state).where(
            Submission.id == submission.id))
        assert sorted(code for code, _ in statuses) == [303, 409], statuses
        assert _transitions() == before + 1
        assert state == next(outcome for code, outcome in statuses if code == 303)
        outcomes.append(state)
        _reopen(submission)
    assert len(outcomes) == RUNS

"""The server's quarantine of refused offline submits (reliability.md §4.2 rule 6): a JSON
submit refused for its state or scope leaves one copy per user, UUID and content; retryable
and fixable answers leave none; the refusal itself is unchanged."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.clock import today
from dantoc.extensions import db
from dantoc.pwa.models import SubmissionQuarantine
from dantoc.refusal import Refusal
from dantoc.submissions import services
from tests.factories import (
    make_village,
    make_village_head,
    post,
)

JSON = {"Accept": "application/json"}


def _rows() -> list[SubmissionQuarantine]:
    return list(db.session.scalars(sa.select(SubmissionQuarantine).order_by(
        SubmissionQuarantine.id).execution_options(populate_existing=True)))


def _audits() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "outbox.quarantine"))


# Each case prepares the server state, then returns (client, user, key, answers, base) of the
# submit the phone's outbox replays; the server refuses it with the expected code.
def _locked(entry, login):
    entry.period.closes_on = today() - timedelta(days=1)
    db.session.commit()
    return entry.client, entry.user, str(uuid.uuid4()), entry.answers(), 0


def _approved(entry, login):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    submission = services.find(entry.version.form_id, uuid.UUID(key))
    services.transition(submission, "approve", entry.user)
    db.session.commit()
    return entry.client, entry.user, key, entry.answers(households="43"), 1


def _stale(entry, login):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key, action="draft")
    return entry.client, entry.user, key, entry.answers(), 3


def _conflict(entry, login):
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key)
    return entry.client, entry.user, key, entry.answers(households="43"), 0


def _already_started(entry, login):
    post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()), action="draft")
    return entry.client, entry.user, str(uuid.uuid4()), entry.answers(), 0


def _scope(entry, login):
    other = make_village_head(make_village())
    return login(other), other, str(uuid.uuid4()), entry.answers(), 0


def _no_authority(entry, login):
    entry.user.role_code = "commune_officer"  # role changed while the item waited
    db.session.commit()
    return entry.client, entry.user, str(uuid.uuid4()), entry.answers(), 0


REFUSALS = {
    "period_closed": (_locked, 409, "locked"),
    "approved": (_approved, 409, "locked"),
    "stale": (_stale, 409, "stale"),
    "uuid_conflict": (_conflict, 422, "uuid_conflict"),
    "already_started": (_already_started, 409, "already_started"),
    "scope_changed": (_scope, 403, "forbidden"),
    "no_authority": (_no_authority, 403, "forbidden"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refused_json_submit_is_quarantined_once(entry, login, case):
    prepare, status, code = REFUSALS[case]
    client, user, key, answers, base = prepare(entry, login)
    responses = [post(client, entry.url, {**answers, "csrf_token": f"token-{n}"}, key=key,
                      base=base, headers=JSON) for n in range(3)]  # retries, fresh tokens
    for response in responses:
        assert response.status_code == status
        error = response.get_json()["error"]
        assert error["message"]
        if status != 403:
            assert error["code"] == code
    rows = _rows()
    assert len(rows) == 1 and _audits() == 1
    row = rows[0]
    assert (str(row.client_uuid), row.error_code) == (key, code)
    assert row.message == responses[0].get_json()["error"]["message"]
    assert row.path == entry.url and row.unit_id == entry.village.id
    assert (row.form_code, row.period_code) == (entry.version.form.code, entry.period.code)
    assert "csrf_token" not in row.payload
    assert row.payload["uuid"] == [key] and row.payload["action"] == ["submit"]
    assert all(row.payload[name] == [value] for name, value in answers.items())
    assert row.user_id == user.id


def test_other_content_under_the_same_uuid_is_kept_too(entry, login):
    client, _user, key, answers, base = _locked(entry, login)
    post(client, entry.url, answers, key=key, base=base, headers=JSON)
    post(client, entry.url, {**answers, entry.name("households"): "44"}, key=key, base=base,
         headers=JSON)
    assert len(_rows()) == 2


def test_each_user_gets_their_own_copy(entry, login):
    client, other, key, answers, _base = _scope(entry, login)
    post(client, entry.url, answers, key=key, headers=JSON)
    third = make_village_head(make_village())
    post(login(third), entry.url, answers, key=key, headers=JSON)
    assert sorted(r.user_id for r in _rows()) == sorted([other.id, third.id])


def test_invalid_answers_are_not_quarantined(entry):
    response = post(entry.client, entry.url, entry.answers(households="abc"),
                    key=str(uuid.uuid4()), headers=JSON)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid"
    assert _rows() == [] and _audits() == 0


def test_a_submit_in_flight_is_not_quarantined(entry, monkeypatch):
    def busy(*args, **kwargs):
        raise Refusal("in_flight")

    monkeypatch.setattr(services, "submit", busy)
    response = post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()),
                    headers=JSON)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "in_flight"
    assert _rows() == []


@pytest.mark.parametrize("case", ["period_closed", "scope_changed"])
def test_html_submits_and_drafts_are_not_quarantined(entry, login, case):
    prepare, status, _code = REFUSALS[case]
    client, _user, key, answers, base = prepare(entry, login)
    assert post(client, entry.url, answers, key=key, base=base).status_code == status
    assert post(client, entry.url, answers, key=key, base=base, action="draft",
                headers=JSON).status_code == status
    assert _rows() == []


def test_accepted_submit_leaves_no_quarantine(entry):
    response = post(entry.client, entry.url, entry.answers(), key=str(uuid.uuid4()),
                    headers=JSON)
    assert response.status_code == 201
    assert _rows() == []


def test_a_quarantine_failure_does_not_change_the_refusal(entry, login, monkeypatch):
    from dantoc.pwa import services as pwa

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pwa, "quarantine_refusal", broken)
    client, _user, key, answers, base = _locked(entry, login)
    response = post(client, entry.url, answers, key=key, base=base, headers=JSON)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "locked"

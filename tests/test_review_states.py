"""The workflow is a closed set of states: every action not in the table is refused from
every state, by the service that performs it, and nothing changes."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from dantoc.extensions import db
from dantoc.refusal import Refusal
from dantoc.submissions import services, states
from dantoc.submissions.checks import Cell
from dantoc.submissions.formbuilder import load_spec
from dantoc.web.errors import status_of
from dantoc.workflow import Lock
from tests.factories import (
    counts,
    post,
    reload_report,
)

#: The whole workflow, written out: (state before, action) → state after.
EXPECTED = {
    (states.DRAFT, "save"): states.DRAFT,
    (states.DRAFT, "submit"): states.SUBMITTED,
    (states.RETURNED, "save"): states.RETURNED,
    (states.RETURNED, "submit"): states.SUBMITTED,
    (states.SUBMITTED, "return"): states.RETURNED,
    (states.SUBMITTED, "approve"): states.APPROVED,
    (states.APPROVED, "unapprove"): states.SUBMITTED,
}
ACTIONS = ("save", "submit", "return", "approve", "unapprove")
ILLEGAL = [(s, a) for s in states.STATES for a in ACTIONS if (s, a) not in EXPECTED]


def test_the_table_is_the_closed_set():
    assert set(states.STATES) == {"draft", "submitted", "returned", "approved"}
    assert set(states.ACTIONS) == set(ACTIONS)
    for state in states.STATES:
        for action in ACTIONS:
            assert states.target(state, action) == EXPECTED.get((state, action)), (
                state, action)
    assert states.target(None, "save") == states.DRAFT
    assert states.target(None, "submit") == states.SUBMITTED
    assert not any(states.allowed(None, a) for a in ("return", "approve", "unapprove"))
    assert not states.allowed(states.SUBMITTED, "discard")


def _in_state(entry, state: str):
    """The entry village's report brought into ``state`` through the real services."""
    key = str(uuid.uuid4())
    post(entry.client, entry.url, entry.answers(), key=key,
         action="draft" if state == states.DRAFT else "submit")
    submission = reload_report(entry)
    if state == states.RETURNED:
        services.transition(submission, "return", entry.user, reason="Sai")
    elif state == states.APPROVED:
        services.transition(submission, "approve", entry.user)
    db.session.commit()
    submission = reload_report(entry)
    assert submission.state == state
    return submission


def _attempt(entry, submission, action: str):
    target = services.Target(submission.form_version, entry.village, entry.period)
    base = submission.current_version
    if action == "save":
        services.save_draft(target, submission.client_uuid, base, {}, entry.user)
    elif action == "submit":
        households = load_spec(submission.form_version).by_code()["households"]
        services.submit(target, submission.client_uuid, base, {},
                        [Cell(households, "", Decimal(7))], entry.user)
    else:
        services.transition(submission, action, entry.user, reason="Lý do")


@pytest.mark.parametrize("state, action", ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_every_illegal_action_is_refused_and_changes_nothing(entry, state, action):
    submission = _in_state(entry, state)
    before = counts(), submission.current_version, submission.state_reason
    with pytest.raises(Refusal) as refused:
        _attempt(entry, submission, action)
    assert status_of(refused.value.code) == 409
    db.session.rollback()
    submission = reload_report(entry)
    assert submission.state == state
    assert (counts(), submission.current_version, submission.state_reason) == before


@pytest.mark.parametrize("state, action", list(EXPECTED), ids=[f"{s}-{a}" for s, a in EXPECTED])
def test_every_legal_action_moves_to_the_expected_state(entry, state, action):
    submission = _in_state(entry, state)
    _attempt(entry, submission, action)
    db.session.commit()
    assert reload_report(entry).state == EXPECTED[(state, action)]


@pytest.mark.parametrize("state, period_open, authorized, reason", [
    ("submitted", True, True, None),
    ("submitted", False, True, None),  # a late report can still be decided on
    ("submitted", True, False, Lock.NO_AUTHORITY),
    ("approved", True, True, Lock.APPROVED),
    ("approved", False, True, Lock.PERIOD_CLOSED),
    ("approved", True, False, Lock.NO_AUTHORITY),
    ("returned", True, True, Lock.WITH_OWNER),
    ("draft", True, True, Lock.WITH_OWNER),
])
def test_review_side_lock_reasons(state, period_open, authorized, reason):
    assert states.review_lock_reason(state, period_open=period_open,
                                     authorized=authorized) == reason

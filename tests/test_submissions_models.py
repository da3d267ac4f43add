"""Submission invariants held by the database, and the closed state machine."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from dantoc.extensions import db
from dantoc.submissions import states
from dantoc.submissions.models import Submission, SubmissionValue, SubmissionVersion
from dantoc.workflow import Lock
from tests.factories import make_period, make_questionnaire, make_village


@pytest.fixture
def target(app):
    return make_village(), make_questionnaire(), make_period()


def _submission(target, key=None, **values) -> Submission:
    village, version, period = target
    fields = {"client_uuid": key or uuid.uuid4(), "form_id": version.form_id,
              "form_version_id": version.id, "unit_id": village.id, "period_id": period.id,
              "state": "draft", "current_version": 0, **values}
    submission = Submission(**fields)
    db.session.add(submission)
    db.session.flush()
    return submission


def _refused(make) -> None:
    with pytest.raises(IntegrityError), db.session.begin_nested():
        make()


def test_client_uuid_is_unique_per_form(target):
    key = uuid.uuid4()
    _submission(target, key)
    other_period = make_period("2027")
    _refused(lambda: _submission((target[0], target[1], other_period), key))


def test_one_submission_per_form_unit_and_period(target):
    _submission(target)
    _refused(lambda: _submission(target))


@pytest.mark.parametrize("values", [
    {"state": "deleted"},
    {"state": "submitted", "current_version": 0},
    {"state": "draft", "current_version": 1},
    {"state": "returned", "current_version": 1, "state_reason": None},
    {"current_version": -1},
], ids=["unknown-state", "submitted-without-version", "draft-with-version",
        "return-without-reason", "negative-version"])
def test_state_invariants_are_database_constraints(target, values):
    _refused(lambda: _submission(target, **values))


def _version(submission, number=1, **values) -> SubmissionVersion:
    fields = {"submission_id": submission.id, "number": number, "base_version": number - 1,
              "payload": {}, **values}
    version = SubmissionVersion(**fields)
    db.session.add(version)
    db.session.flush()
    return version


def test_version_numbers_are_unique_and_point_back(target):
    submission = _submission(target)
    _version(submission)
    _refused(lambda: _version(submission))
    _refused(lambda: _version(submission, 2, base_version=2))
    _refused(lambda: _version(submission, 2, submitted_at=datetime.now(UTC)))  # no hash


@pytest.mark.parametrize("values", [
    {}, {"value_numeric": Decimal(1), "value_text": "x"},
    {"value_bool": True, "value_numeric": Decimal(0)},
], ids=["none", "number-and-text", "bool-and-number"])
def test_a_value_has_exactly_one_typed_column(target, values):
    version = _version(_submission(target))
    indicator_id = target[1].sections[0].items[0].indicator_id

    def make():
        db.session.add(SubmissionValue(version_id=version.id, indicator_id=indicator_id,
                                       disaggregation="", **values))
        db.session.flush()

    _refused(make)


def test_one_value_per_indicator_and_disaggregation(target):
    version = _version(_submission(target))
    indicator_id = target[1].sections[0].items[0].indicator_id

    def make(key: str):
        db.session.add(SubmissionValue(version_id=version.id, indicator_id=indicator_id,
                                       disaggregation=key, value_numeric=Decimal(3)))
        db.session.flush()

    make("ethnic_group=03;sex=male")
    make("ethnic_group=03;sex=female")
    _refused(lambda: make("ethnic_group=03;sex=male"))
    assert db.session.scalar(sa.select(sa.func.count(SubmissionValue.id))) == 2


@pytest.mark.parametrize("state, action, after", [
    (None, "save", "draft"), (None, "submit", "submitted"), ("draft", "submit", "submitted"),
    ("submitted", "return", "returned"), ("submitted", "approve", "approved"),
    ("returned", "save", "returned"), ("returned", "submit", "submitted"),
    ("submitted", "save", None), ("approved", "submit", None), ("approved", "return", None),
    ("draft", "approve", None), ("returned", "approve", None),
])
def test_allowed_transitions(state, action, after):
    assert states.target(state, action) == after
    assert states.allowed(state, action) is (after is not None)


@pytest.mark.parametrize("state, period_open, authorized, reason", [
    ("draft", True, True, None), (None, True, True, None), ("returned", True, True, None),
    ("draft", False, True, Lock.PERIOD_CLOSED), ("approved", True, True, Lock.APPROVED),
    ("submitted", True, True, Lock.AWAITING_DECISION), ("draft", True, False, Lock.NO_AUTHORITY),
])
def test_lock_reasons(state, period_open, authorized, reason):
    assert states.lock_reason(state, period_open=period_open, authorized=authorized) == reason


def test_state_set_is_closed():
    assert set(states.STATES) == {"draft", "submitted", "returned", "approved"}
    assert {after for action in states.FLOW.actions for after in action.moves.values()} <= set(
        states.STATES)

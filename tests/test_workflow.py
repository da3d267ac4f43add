"""The shared approval-workflow core: tables as data, the reason rule, the checks, the claim.

The last tests show how the next features build on it: issue 12's publish / withdraw of an
approved report and issue 13's sync states are rows added to a table, driven through the
same engine with no new code path (here on a table of their own, so the schema of the real
workflows stays untouched).
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.refusal import Refusal
from dantoc.reports import states as report_states
from dantoc.submissions import states as submission_states
from dantoc.workflow import ABOVE, OWNER, REASON_MAX, Action, Lock, Workflow
from tests.factories import make_user

APPROVED, PUBLISHED, QUEUED, SENT = "approved", "published", "queued", "sent"


class Base(so.DeclarativeBase):
    """A metadata of its own: the test table never reaches the migrations' comparison."""


class Record(Base):
    """The columns the engine needs: id, state, version, state_reason, updated_at, and the
    stamps of the actions that have them."""

    __tablename__ = "workflow_test_records"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(20))
    version: so.Mapped[int] = so.mapped_column(default=0)
    state_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    decided_by_id: so.Mapped[int | None] = so.mapped_column()
    decided_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))
    updated_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))


#: The unit-report table plus issue 12's rows: publish an approved report for the public
#: statistics, withdraw it with a reason.
PUBLISHING = report_states.FLOW.with_actions(
    Action("publish", {APPROVED: PUBLISHED}, ABOVE, stamps="decided"),
    Action("withdraw", {PUBLISHED: APPROVED}, ABOVE, needs_reason=True, stamps="decided"),
    states=(PUBLISHED,))
#: Issue 13's sync states as rows of their own table.
SYNC = Workflow("sync", (APPROVED, QUEUED, SENT), (
    Action("queue", {APPROVED: QUEUED}, OWNER),
    Action("send", {QUEUED: SENT}, OWNER),
    Action("requeue", {SENT: QUEUED}, ABOVE, needs_reason=True),
))


@pytest.fixture
def records(app):
    Base.metadata.create_all(db.engine)
    yield
    db.session.rollback()
    Base.metadata.drop_all(db.engine)


def _record(state: str = APPROVED, version: int = 3) -> Record:
    row = Record(state=state, version=version)
    db.session.add(row)
    db.session.flush()
    return row


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_the_real_tables_say_who_acts_and_what_needs_a_reason():
    assert submission_states.FLOW.by(OWNER) == ("save", "submit")
    assert submission_states.FLOW.by(ABOVE) == ("return", "approve", "unapprove")
    assert report_states.FLOW.by(ABOVE) == ("approve", "return", "reopen")
    assert [a for a in submission_states.FLOW.names if submission_states.FLOW.needs_reason(a)] \
        == ["return", "unapprove"]
    assert [a for a in report_states.FLOW.names if report_states.FLOW.needs_reason(a)] == [
        "return", "reopen"]
    assert report_states.FLOW.target(None, "submit") == "submitted"  # no row yet: open
    assert submission_states.FLOW.target(None, "submit") == "submitted"


@pytest.mark.parametrize("rows, message", [
    ((Action("a", {"x": "nowhere"}),), "unknown states"),
    ((Action("a", {"x": "x"}), Action("a", {"x": "x"})), "declared twice"),
])
def test_a_table_is_checked_when_it_is_built(rows, message):
    with pytest.raises(ValueError, match=message):
        Workflow("t", ("x",), rows)
    with pytest.raises(ValueError, match="unknown actor"):
        Action("a", {"x": "x"}, actor="anyone")


@pytest.mark.parametrize("text, expected", [
    ("  Thiếu số liệu  ", "Thiếu số liệu"), ("x" * REASON_MAX, "x" * REASON_MAX),
    ("", "reason_required"), ("   ", "reason_required"), (None, "reason_required"),
    ("x" * (REASON_MAX + 1), "reason_too_long"),
])
def test_the_reason_rule(text, expected):
    for flow, action in ((submission_states.FLOW, "return"), (report_states.FLOW, "reopen")):
        if expected in ("reason_required", "reason_too_long"):
            with pytest.raises(Refusal) as refused:
                flow.clean_reason(action, text)
            assert refused.value.code == expected
        else:
            assert flow.clean_reason(action, text) == expected
    assert report_states.FLOW.clean_reason("approve", "not kept") is None


def test_an_added_row_is_driven_by_the_engine(app, records):
    officer = make_user("province_officer", unit_code="12")
    row = _record()
    PUBLISHING.transition(row, "publish", officer, version=3)
    assert (row.state, row.version, row.decided_by_id, row.state_reason) == (
        PUBLISHED, 4, officer.id, None)
    with pytest.raises(Refusal) as refused:
        PUBLISHING.transition(row, "withdraw", officer, version=4, reason=" ")
    assert refused.value.code == "reason_required"
    PUBLISHING.transition(row, "withdraw", officer, version=4, reason=" Số liệu sai ")
    assert (row.state, row.version, row.state_reason) == (APPROVED, 5, "Số liệu sai")
    published, withdrawn = _events("report.publish"), _events("report.withdraw")
    assert len(published) == 1 and len(withdrawn) == 1
    assert published[0].before == {"state": APPROVED, "version": 3, "reason": None}
    assert withdrawn[0].after == {"state": APPROVED, "version": 5, "reason": "Số liệu sai"}
    assert withdrawn[0].actor_id == officer.id and withdrawn[0].object_id == str(row.id)


@pytest.mark.parametrize("state, version, lock, code", [
    (APPROVED, 2, None, "stale"),  # the page showed an older version
    (PUBLISHED, 3, None, "invalid_transition"),  # nothing to publish
    (APPROVED, 3, Lock.PARENT_UP, "locked"),
])
def test_refusals_of_an_added_row_change_nothing(app, records, state, version, lock, code):
    officer = make_user("province_officer", unit_code="12")
    row = _record(state)
    with pytest.raises(Refusal) as refused:
        PUBLISHING.transition(row, "publish", officer, version=version, lock=lock)
    assert (refused.value.code, refused.value.lock) == (code, lock)
    db.session.expire_all()
    assert (row.state, row.version) == (state, 3) and _events("report.publish") == []


def test_a_lost_claim_is_stale_and_writes_nothing(app, records):
    officer = make_user("province_officer", unit_code="12")
    row = _record()
    assert PUBLISHING.claim(row, APPROVED, 3, state=PUBLISHED, version=4)  # another request
    with pytest.raises(Refusal) as refused:  # this one still holds the row it read
        PUBLISHING.transition(row, "publish", officer, version=3)
    assert refused.value.code == "stale" and _events("report.publish") == []


def test_sync_states_are_a_table_of_their_own(app, records):
    user = make_user("province_officer", unit_code="12")
    row = _record()
    for action in ("queue", "send"):
        SYNC.transition(row, action, user)
    assert (row.state, row.version) == (SENT, 5)
    SYNC.transition(row, "requeue", user, reason="Máy chủ trung ương từ chối")
    assert (row.state, row.state_reason) == (QUEUED, "Máy chủ trung ương từ chối")
    assert [e.after["state"] for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.like("sync.%"))
        .order_by(AuditEvent.id))] == [QUEUED, SENT, QUEUED]

"""The audit trail is a hash chain: ``flask audit verify`` passes on an untouched trail and
names the first broken or missing link when rows are deleted, edited, moved or slipped in
directly in the database — with the append-only triggers switched off first, as an attacker
with the database owner's rights would (dantoc/audit/chain.py, docs/security.md)."""

# The tampering is raw SQL on purpose, built from integer ids the test read itself.
# ruff: noqa: S608

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.audit import services as audit
from dantoc.audit.chain import verify
from dantoc.audit.models import AuditChainHead, AuditEvent
from dantoc.extensions import db
from tests.conftest import base_config

ROWS = 6


@pytest.fixture
def trail(app):
    """Six audit rows written the application's way, in three transactions."""
    for i in range(ROWS):
        audit.record("test.chain", after={"i": i, "text": "Bản Nà Tăm", "n": 1.5})
        if i % 2:
            db.session.commit()
    db.session.commit()
    return [row.id for row in db.session.scalars(sa.select(AuditEvent).order_by(
        AuditEvent.seq))]


def _tamper(*statements: str) -> None:
    """Run SQL as the database owner would, with the append-only triggers switched off."""
    postgresql = db.engine.dialect.name == "postgresql"
    db.session.commit()  # the test's session would hold SQLite's write lock
    with db.engine.begin() as connection:
        if postgresql:
            connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        for statement in statements:
            connection.exec_driver_sql(statement)
        if postgresql:
            connection.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")
    db.session.expire_all()


def test_an_untouched_trail_verifies(trail, runner):
    verdict = verify()
    assert verdict.ok and verdict.links >= ROWS
    head = db.session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (verdict.links, verdict.head)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and f"{verdict.links} links" in result.output


def test_rows_are_linked_in_order(trail):
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    assert all(row.prev_hash == before.hash for before, row in pairwise(rows))
    assert len({row.hash for row in rows}) == len(rows)


def _link_of(row_id: int) -> int:
    return db.session.get(AuditEvent, row_id).seq


def test_a_deleted_row_is_a_missing_link(trail, runner):
    victim = trail[2]
    seq = _link_of(victim)
    _tamper(f"DELETE FROM audit_events WHERE id = {victim}")
    verdict = verify()
    assert not verdict.ok and f"link {seq} is missing" in verdict.problem
    assert verdict.links == seq - 1
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"link {seq} is missing" in result.output


def test_deleting_the_last_rows_is_seen_through_the_head(trail):
    _tamper(f"DELETE FROM audit_events WHERE id IN ({trail[-1]}, {trail[-2]})")
    verdict = verify()
    assert not verdict.ok and "the last rows were deleted" in verdict.problem


@pytest.mark.parametrize("change", [
    "after = '{\"i\": 99}'", "actor_name = 'someone else'", "action = 'test.other'",
    "at = at", "object_id = '7'"])
def test_an_edited_row_is_found(trail, change):
    victim = trail[3]
    seq = _link_of(victim)
    if change == "at = at":  # a moment moved by one second
        change = ("at = at + interval '1 second'" if db.engine.dialect.name == "postgresql"
                  else "at = datetime(at, '+1 second')")
    _tamper(f"UPDATE audit_events SET {change} WHERE id = {victim}")
    verdict = verify()
    assert not verdict.ok and f"link {seq} (row {victim}) was changed" in verdict.problem


def test_rows_moved_in_the_chain_are_found(trail):
    first, second = trail[1], trail[2]
    a, b = _link_of(first), _link_of(second)
    _tamper(f"UPDATE audit_events SET seq = -1 WHERE id = {first}",
            f"UPDATE audit_events SET seq = {a} WHERE id = {second}",
            f"UPDATE audit_events SET seq = {b} WHERE id = {first}")
    verdict = verify()
    assert not verdict.ok and f"link {a} (row {second}) does not follow" in verdict.problem


def test_rows_moved_by_id_are_found(trail):
    first, second = trail[1], trail[2]
    _tamper(f"UPDATE audit_events SET id = -1 WHERE id = {first}",
            f"UPDATE audit_events SET id = {first} WHERE id = {second}",
            f"UPDATE audit_events SET id = {second} WHERE id = -1")
    verdict = verify()
    assert not verdict.ok and "out of order" in verdict.problem


def test_a_row_slipped_in_around_the_application_is_found(trail):
    _tamper("INSERT INTO audit_events (at, action, actor_name) "
            "VALUES (CURRENT_TIMESTAMP, 'user.create', 'ghost')")
    verdict = verify()
    assert not verdict.ok and "not in the chain" in verdict.problem


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link(trail):
    """Recomputing the changed row's own hash is not enough: the next row names the old one."""
    from dantoc.audit.chain import digest

    victim = db.session.get(AuditEvent, trail[2])
    victim.after = {"i": 99}
    forged = digest(victim.prev_hash, victim)
    db.session.rollback()
    _tamper(f"UPDATE audit_events SET after = '{{\"i\": 99}}', hash = '{forged}' "
            f"WHERE id = {trail[2]}")
    verdict = verify()
    assert not verdict.ok and "does not follow" in verdict.problem


WRITERS, EACH = 4, 8


def test_concurrent_writers_make_one_unbroken_chain(database_url):
    """Several "workers" (app instances, each its own connections) write audit rows at once:
    links are given out one at a time (PostgreSQL: the head's row lock)."""
    apps = [create_app(base_config(database_url)) for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)

    def write(app):
        with app.app_context():
            barrier.wait(timeout=30)
            for i in range(EACH):
                with app.test_request_context("/", method="POST"):
                    audit.record("test.concurrent", after={"i": i})
                    db.session.commit()
            db.session.remove()
            db.engine.dispose()

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, apps))
    with apps[0].app_context():
        verdict = verify()
        assert verdict.ok, verdict.problem
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "test.concurrent")) == WRITERS * EACH
        db.session.remove()
        db.engine.dispose()

"""Approve versus return on the same commune report: exactly one wins with exactly one audit
row; the loser gets 409 and changes nothing."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.reports.models import UnitReport
from tests.test_reports_support import (
    COMMUNE,
    make_world,
    officer,
    put,
    report_of,
    village_values,
)

RUNS = 20


def _decisions() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(("report.approve", "report.return"))))


def _race(clients, report_id: int, version: int) -> list[tuple[int, str]]:
    barrier, statuses = threading.Barrier(2), []
    requests = [("approved", f"/reports/{report_id}/approve", {"version": version}),
                ("returned", f"/reports/{report_id}/return",
                 {"version": version, "reason": "Sai"})]

    def send(client, outcome, url, data):
        barrier.wait()
        response = client.post(url, data=data)
        if response.status_code == 409:
            assert "Nothing was changed" in response.get_data(as_text=True)
        statuses.append((response.status_code, outcome))

    threads = [threading.Thread(target=send, args=(c, *r))
               for c, r in zip(clients, requests, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _reset(report_id: int) -> int:
    """Put the report back to submitted at a new version (test set-up, not a transition)."""
    version = db.session.scalar(sa.select(UnitReport.version).where(
        UnitReport.id == report_id)) + 1
    db.session.execute(sa.update(UnitReport).where(UnitReport.id == report_id).values(
        state="submitted", version=version, state_reason=None, decided_by_id=None,
        decided_at=None))
    db.session.commit()
    return version


def test_approve_versus_return_has_exactly_one_winner(app):
    w = make_world(villages=1, others=0)
    put(w.version, w.villages[0], w.period, village_values(3))
    _user, commune = officer(app, "commune_officer", COMMUNE)
    assert commune.post(w.report_url(w.commune, "/submit"),
                        data={"version": "0"}).status_code == 303
    report = report_of(w.version, w.commune, w.period)
    clients = [officer(app, "province_officer", "12")[1] for _ in range(2)]
    report_id, version = report.id, report.version  # plain values: no lazy load in the race
    outcomes = []
    for _run in range(RUNS):
        before = _decisions()
        db.session.rollback()  # the test's session must hold no lock during the race
        statuses = _race(clients, report_id, version)
        db.session.expire_all()
        state = db.session.scalar(sa.select(UnitReport.state).where(
            UnitReport.id == report_id))
        assert sorted(code for code, _ in statuses) == [303, 409], statuses
        assert _decisions() == before + 1
        assert state == next(outcome for code, outcome in statuses if code == 303)
        outcomes.append(state)
        version = _reset(report_id)
    assert len(outcomes) == RUNS

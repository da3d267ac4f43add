"""Approve versus return on the same version, in both workflows of the shared core: exactly
one wins with exactly one audit row; the loser gets 409 and changes nothing.

Each run sends the two decisions from two officers' browsers at the same moment (a barrier
releases both threads), then puts the record back to "submitted" for the next run (test
set-up, written straight into the table, not a transition).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.reports.models import UnitReport
from dantoc.submissions.models import Submission
from tests.factories import officer
from tests.test_reports_support import (
    COMMUNE,
    make_world,
    put,
    report_of,
    village_values,
)

RUNS = 50


@dataclass
class Race:
    """One workflow's record, two deciding officers, and how to read and reset it."""

    model: Any
    record_id: int
    clients: list
    approve_url: str
    return_url: str
    audit_prefix: str
    version_column: str

    def version(self) -> int:
        return db.session.scalar(sa.select(getattr(self.model, self.version_column)).where(
            self.model.id == self.record_id))

    def state(self) -> str:
        return db.session.scalar(sa.select(self.model.state).where(
            self.model.id == self.record_id))

    def reset(self) -> None:
        values = {"state": "submitted", "state_reason": None}
        if self.model is UnitReport:  # its version counts transitions: a new one per run
            values.update(version=self.version() + 1, decided_by_id=None, decided_at=None)
        db.session.execute(sa.update(self.model).where(self.model.id == self.record_id)
                           .values(**values))
        db.session.commit()

    def decisions(self) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_((f"{self.audit_prefix}.approve",
                                   f"{self.audit_prefix}.return"))))


def _village_report(app) -> Race:
    w = make_world(villages=1, others=0)
    submission = put(w.version, w.villages[0], w.period, village_values(3), state="submitted")
    key = submission.client_uuid
    clients = [officer(app, "commune_officer", COMMUNE)[1] for _ in range(2)]
    return Race(Submission, submission.id, clients, f"/review/{key}/approve",
                f"/review/{key}/return", "submission", "current_version")


def _unit_report(app) -> Race:
    w = make_world(villages=1, others=0)
    put(w.version, w.villages[0], w.period, village_values(3))
    _user, commune = officer(app, "commune_officer", COMMUNE)
    assert commune.post(w.report_url(w.commune, "/submit"),
                        data={"version": "0"}).status_code == 303
    report = report_of(w.version, w.commune, w.period)
    clients = [officer(app, "province_officer", "12")[1] for _ in range(2)]
    return Race(UnitReport, report.id, clients, f"/reports/{report.id}/approve",
                f"/reports/{report.id}/return", "report", "version")


def _send_both(race: Race, version: int) -> list[tuple[int, str]]:
    barrier, statuses = threading.Barrier(2), []
    requests = [("approved", race.approve_url, {"version": version}),
                ("returned", race.return_url, {"version": version, "reason": "Sai"})]

    def send(client, outcome, url, data):
        barrier.wait()
        response = client.post(url, data=data)
        if response.status_code == 409:
            assert "Nothing was changed" in response.get_data(as_text=True)
        statuses.append((response.status_code, outcome))

    threads = [threading.Thread(target=send, args=(client, *request))
               for client, request in zip(race.clients, requests, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.mark.parametrize("setup", [_village_report, _unit_report],
                         ids=["village-report", "unit-report"])
def test_approve_versus_return_has_exactly_one_winner(app, setup):
    race = setup(app)
    winners = Counter()
    for _run in range(RUNS):
        version, before = race.version(), race.decisions()
        db.session.rollback()  # the test's session must hold no lock during the race
        statuses = _send_both(race, version)
        db.session.expire_all()
        assert sorted(code for code, _ in statuses) == [303, 409], statuses
        assert race.decisions() == before + 1
        winner = next(outcome for code, outcome in statuses if code == 303)
        assert race.state() == winner
        winners[winner] += 1
        race.reset()
    assert sum(winners.values()) == RUNS

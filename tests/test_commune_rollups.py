"""The communes' rollups of approved village values (issue #11 item 1,
``dantoc/submissions/rollups.py``, migration 0026): what the province's lookup and dashboard
read. Kept in the transaction of every approval, un-approval and return, so a decision shows
at the next request; at every step equal to a fresh GROUP BY of the raw approved values, also
after random sequences of decisions and when two officers decide at the same moment; filled
set-based by the migration, the generators and ``flask rollups rebuild``."""

from __future__ import annotations

import random
import threading
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from dantoc import clock
from dantoc.catalogs import services as catalogs
from dantoc.catalogs.models import AdminUnit
from dantoc.extensions import db
from dantoc.indicators.models import Indicator
from dantoc.lookup import query
from dantoc.submissions import rollups, services
from dantoc.submissions.models import CommuneRollup, Submission
from tests.factories import (
    make_period,
    make_user,
    make_village,
    make_village_head,
    officer,
    post,
    signed_in,
    typical_answers,
)
from tests.test_lookup import approve, data, province, url  # noqa: F401  (fixtures)

REASON = "Số liệu chưa khớp"


def figures(commune_id: int, period_id: int, indicator_id: int, key: str = "") -> tuple:
    """(villages, total, low, high, yes) of one stored row, or None."""
    row = db.session.get(CommuneRollup, (period_id, commune_id, indicator_id, key),
                         populate_existing=True)
    return None if row is None else (row.villages, row.total, row.low, row.high, row.yes)


def decide(submission: Submission, action: str, user, reason: str | None = None) -> None:
    services.transition(submission, action, user, reason=reason)
    db.session.commit()


def resubmit(app, submission: Submission, **answers) -> None:
    """The village head sends a corrected version of a returned report."""
    village = db.session.get(AdminUnit, submission.unit_id)
    client = signed_in(app.test_client(), make_village_head(village))
    version = submission.form_version
    response = post(client, f"/entry/{village.id}/{version.form.code}/{submission.period.code}",
                    typical_answers(version, **answers), key=str(submission.client_uuid),
                    base=submission.current_version)
    assert response.status_code in (200, 303), response.status_code
    db.session.expire_all()


def _lookup(client, world, entry) -> str:
    return client.get(url(world, entry, "households")).get_data(as_text=True)


def _trend(client) -> str:
    html = client.get("/lookup/dashboard").get_data(as_text=True)
    return html[html.index("Tổng số hộ"):].split("</table>")[0]


def _shows(html: str, number: str) -> bool:
    return f">{number}<" in html or f">{number.replace(',', '.')}<" in html


def test_a_decision_shows_in_the_next_lookup_and_dashboard(app, entry, data, province):  # noqa: F811
    pending, user = data["pending"], data["officer"]
    commune, households = entry.village.parent_id, data["ids"]["households"]
    assert _shows(_lookup(province, data, entry), "95") and _shows(_trend(province), "95")
    assert figures(commune, entry.period.id, households) == (2, 70, 30, 40, 0)

    approve(pending, user)  # 1,000 households more in 03388
    assert _shows(_lookup(province, data, entry), "1,095")
    assert _shows(_trend(province), "1,095")
    assert figures(commune, entry.period.id, households) == (3, 1070, 30, 1000, 0)

    decide(pending, "unapprove", user, REASON)  # out again; the maximum is recomputed
    assert _shows(_lookup(province, data, entry), "95") and _shows(_trend(province), "95")
    assert figures(commune, entry.period.id, households) == (2, 70, 30, 40, 0)

    decide(pending, "return", user, REASON)  # returned: nothing approved changes
    assert _shows(_lookup(province, data, entry), "95")
    resubmit(app, pending, households="500")
    approve(db.session.get(Submission, pending.id), user)
    assert _shows(_lookup(province, data, entry), "595") and _shows(_trend(province), "595")
    assert figures(commune, entry.period.id, households) == (3, 570, 30, 500, 0)
    road = data["ids"]["road_hardened"]
    assert figures(commune, entry.period.id, road) == (3, None, None, None, 3)
    assert rollups.differences() == []


def _race(requests: list[tuple]) -> list[int]:
    """POST ``(client, url, data)`` all at the same moment; their status codes."""
    barrier, statuses = threading.Barrier(len(requests)), []

    def send(client, address, form):
        barrier.wait()
        statuses.append(client.post(address, data=form).status_code)

    threads = [threading.Thread(target=send, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def test_two_officers_approving_at_the_same_moment_count_it_once(app, entry, data):  # noqa: F811
    pending = data["pending"]
    commune, households = entry.village.parent_id, data["ids"]["households"]
    clients = [officer(app, "commune_officer", "03388")[1] for _ in range(2)]
    address, pending_id = f"/review/{pending.client_uuid}/approve", pending.id
    for _run in range(5):
        db.session.rollback()  # the test's session holds no lock during the race
        statuses = _race([(client, address, {"version": 1}) for client in clients])
        assert sorted(statuses) == [303, 409], statuses
        db.session.expire_all()
        assert figures(commune, entry.period.id, households) == (3, 1070, 30, 1000, 0)
        assert rollups.differences() == []
        decide(db.session.get(Submission, pending_id), "unapprove", data["officer"], REASON)
        assert figures(commune, entry.period.id, households) == (2, 70, 30, 40, 0)


#: Two decisions on two villages of 03388 (households 40 and 30 approved, 1,000 submitted),
#: which villages they take, and the commune's households row afterwards.
CONCURRENT = {
    ("approve", "unapprove"): ((2, 0), (2, 1030, 30, 1000, 0)),
    ("unapprove", "unapprove"): ((0, 1), None),
    ("approve", "approve"): ((2, 1), (3, 1070, 30, 1000, 0)),
}


@pytest.mark.parametrize("actions", list(CONCURRENT), ids="-".join)
def test_two_decisions_in_one_commune_at_the_same_moment(app, entry, data, actions):  # noqa: F811
    """Two villages of one commune decided concurrently (additions and recomputations of the
    same rows): whichever order they take, the rows equal the approved values afterwards."""
    villages = db.session.scalars(sa.select(Submission).join(
        AdminUnit, AdminUnit.id == Submission.unit_id).where(
        AdminUnit.parent_id == entry.village.parent_id).order_by(Submission.id)).all()
    assert [s.state for s in villages] == ["approved", "approved", "submitted"]
    chosen, expected = CONCURRENT[actions]
    user = data["officer"]
    targets = [villages[n] for n in chosen]
    for target, action in zip(targets, actions, strict=True):
        if action == "approve" and target.state == "approved":
            decide(target, "unapprove", user, REASON)  # so that it can be approved
    ids = [target.id for target in targets]
    clients = [officer(app, "commune_officer", "03388")[1] for _ in range(2)]
    requests = [(client, f"/review/{target.client_uuid}/{action}",
                 {"version": 1, "reason": REASON})
                for client, target, action in zip(clients, targets, actions, strict=True)]
    key = (entry.village.parent_id, entry.period.id, data["ids"]["households"])
    for _run in range(5):
        db.session.rollback()  # (read nothing until the race is over: no lock held)
        statuses = _race(requests)
        assert statuses == [303, 303], statuses
        db.session.expire_all()
        assert rollups.differences() == []
        assert figures(*key) == expected
        for submission_id, action in zip(ids, actions, strict=True):  # back as before
            submission = db.session.get(Submission, submission_id)
            if action == "approve":
                decide(submission, "unapprove", user, REASON)
            else:
                approve(submission, user)
        assert rollups.differences() == []


def _answers(rng: random.Random, version) -> dict:
    households = rng.randint(1, 400)
    population = {f"v{i.indicator_id}_{group}_{sex}": str(rng.randint(0, 900))
                  for s in version.sections for i in s.items if i.indicator.code == "population"
                  for group in ("03", "08") for sex in (0, 1)}
    return {"households": str(households), "poor_households": str(rng.randint(0, households)),
            "distance_km": rng.choice(("0", "2", "12,5", "0,5", "199")),
            "road_hardened": rng.choice(("1", "0")), **population}


def _same_tables(monkeypatch, request: query.Request) -> None:
    """The lookup's table from the rollups equals the one computed from the raw values."""
    read = query.run(request)
    with monkeypatch.context() as raw:
        raw.setattr(query, "_by_commune", lambda _request: False)
        computed = query.run(request)
    assert [r.key for r in read.rows] == [r.key for r in computed.rows]
    assert read.cells == computed.cells and read.totals == computed.totals
    assert read.flags == computed.flags and read.total_flags == computed.total_flags


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_decisions_keep_the_rollups_equal_to_a_fresh_group_by(
        app, entry, monkeypatch, seed):
    """Property: after any sequence of approvals, un-approvals, returns and corrected
    resubmissions, the table equals a fresh GROUP BY of the raw approved values, and the
    lookup reads the same figures from it as from the raw values."""
    rng = random.Random(seed)
    second = make_period("2027")
    officers = {code: make_user("commune_officer", unit_code=code)
                for code in ("03388", "03391")}
    villages = [entry.village, make_village(), make_village(),
                make_village(commune_code="03391"), make_village(commune_code="03391")]
    code_of = {v.id: ("03391" if v.code.startswith("03391") else "03388") for v in villages}
    ids = []
    for village in villages:
        client = signed_in(app.test_client(), make_village_head(village))
        for period in (entry.period, second):
            post(client, f"/entry/{village.id}/{entry.version.form.code}/{period.code}",
                 typical_answers(entry.version, **_answers(rng, entry.version)),
                 key=str(uuid.uuid4()))
            ids.append(db.session.scalar(sa.select(Submission.id).where(
                Submission.unit_id == village.id, Submission.period_id == period.id)))
    assert all(ids) and len(ids) == 10
    done = []
    for step in range(40):
        submission = db.session.get(Submission, rng.choice(ids), populate_existing=True)
        user = officers[code_of[submission.unit_id]]
        choices = {"submitted": ("approve", "approve", "return"), "approved": ("unapprove",),
                   "returned": ("resubmit",)}[submission.state]
        action = rng.choice(choices)
        if action == "resubmit":
            resubmit(app, submission, **_answers(rng, entry.version))
        else:
            decide(submission, action, user, None if action == "approve" else REASON)
        done.append(action)
        assert rollups.differences() == [], (seed, step, done)
    assert {"approve", "unapprove"} <= set(done)
    chosen = tuple(db.session.get(Indicator, i.indicator_id) for s in entry.version.sections
                   for i in s.items if i.indicator.code in (
                       "households", "population", "distance_km", "road_hardened"))
    for by in ((), ("ethnic_group", "sex")):
        for rebase in (False, True):
            _same_tables(monkeypatch, query.Request(
                chosen, (entry.period, second), None, by, rebase=rebase, day=clock.today()))


def test_a_village_moved_to_another_commune_takes_its_figures_along(
        app, entry, data, province):  # noqa: F811
    """A correction of a village's parent in the catalog moves its approved values from one
    commune's rows to the other's, in the same transaction."""
    households = data["ids"]["households"]
    old = entry.village.parent_id
    new = db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.code == "03391", AdminUnit.valid_to.is_(None)))
    assert figures(new.id, entry.period.id, households) == (1, 25, 25, 25, 0)
    catalogs.update_unit(db.session.get(AdminUnit, entry.village.id), parent=new)
    db.session.commit()
    assert figures(old, entry.period.id, households) == (1, 30, 30, 30, 0)
    assert figures(new.id, entry.period.id, households) == (2, 65, 25, 40, 0)
    assert rollups.differences() == []
    html = _lookup(province, data, entry)
    assert _shows(html, "65") and _shows(html, "30") and _shows(html, "95")


def test_check_finds_a_damaged_table_and_rebuild_repairs_it(app, entry, data, runner):  # noqa: F811
    assert runner.invoke(args=["rollups", "check"]).exit_code == 0
    table = CommuneRollup.__table__
    db.session.execute(table.update().where(table.c.indicator_id == data["ids"]["households"])
                       .values(total=table.c.total + 1))
    db.session.execute(table.delete().where(table.c.indicator_id == data["ids"]["population"]))
    db.session.commit()
    checked = runner.invoke(args=["rollups", "check"])
    assert checked.exit_code == 1 and "rows differ" in checked.output
    assert len(rollups.differences()) > 2
    rebuilt = runner.invoke(args=["rollups", "rebuild"])
    assert rebuilt.exit_code == 0 and "rows rebuilt" in rebuilt.output
    db.session.expire_all()
    assert rollups.differences() == []
    assert runner.invoke(args=["rollups", "check"]).exit_code == 0


def _has_table() -> bool:
    return sa.inspect(db.engine).has_table("commune_rollups")


def test_the_migration_fills_the_table_from_approved_data_and_downgrade_drops_it(
        app, entry, data):  # noqa: F811
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(CommuneRollup))
    key = (entry.village.parent_id, entry.period.id, data["ids"]["households"])
    assert stored > 0
    db.session.remove()
    downgrade(revision="0025")  # to the revision before 0026
    assert not _has_table()
    upgrade()
    assert _has_table()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommuneRollup)) == stored
    assert rollups.differences() == []
    assert figures(*key) == (2, 70, 30, 40, 0)


def test_the_generators_fill_the_table_as_the_approvals_would(app):
    """``seed-demo``'s past periods and ``flask demo scale`` write approved submissions in
    bulk, then rebuild the rows of their periods set-based."""
    from dantoc.demo import seed, seed_history
    from dantoc.demo.scale import Plan, generate
    from tests.factories import ensure_reference

    ensure_reference()
    seed()
    history = seed_history()
    counts = generate(Plan(villages=40, periods=2, indicators=20, seed=3))
    db.session.commit()
    assert history["commune_rollups"] > 0 and counts["commune_rollups"] > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommuneRollup)) == (
        history["commune_rollups"] + counts["commune_rollups"])
    assert rollups.differences() == []

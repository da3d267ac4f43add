"""The sign-in throttle holds across workers and servers (docs/security.md §4): its counts
live in the database (default) or Redis, not in a worker's memory; the documented limits hold
even for parallel guesses; a known browser is never locked out by the per-address limit; an
unreachable store refuses (503) rather than letting guesses through, and says so in the log.

"Workers" and "servers" here are separate app instances over one database (and one Redis),
as gunicorn's worker processes and a second app server are.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.accounts import services
from dantoc.accounts.models import ThrottleAttempt
from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from tests.conftest import base_config
from tests.factories import PASSWORD
from tests.security_tree import Clock, build_tree, fresh_client, make

REDIS = "redis://127.0.0.1:6379/0"
STORES = ["database", "redis"]


@pytest.fixture(params=STORES)
def store(request):
    return request.param


def _config(database_url: str, store: str, prefix: str) -> dict:
    config = base_config(database_url) | {"RATELIMIT_KEY_PREFIX": prefix}
    if store == "redis":
        config["RATELIMIT_STORAGE_URI"] = REDIS
    return config


@pytest.fixture
def servers(database_url, store):
    """Two app instances (two workers, or two servers) over one database and one Redis."""
    prefix = f"dantoc-test:{uuid.uuid4().hex}:"
    apps = [create_app(_config(database_url, store, prefix)) for _ in range(3)]
    # The test's own context belongs to a third instance: a request to an app whose context
    # is pushed would reuse it and its session, and keep SQLite's write lock between requests.
    with apps[2].app_context():
        build_tree()
        yield apps[:2]
        db.session.remove()
        for app in apps:
            with app.app_context():
                db.engine.dispose()
        if store == "redis":
            import redis

            client = redis.Redis.from_url(REDIS)
            for key in client.scan_iter(prefix + "*"):
                client.delete(key)


@pytest.fixture
def verifications(monkeypatch):
    calls = []
    real = services.verify_password

    def counting(stored, password):
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(services, "verify_password", counting)
    return calls


def attempt(app, username, password, client=None, **kwargs):
    client = client or fresh_client(app)
    return client.post("/accounts/login", data={"username": username, "password": password},
                       **kwargs)


def _officer() -> str:
    """A new officer's username. The test's session ends its transaction: outside a request
    it would hold SQLite's write lock, and the other "server" could not count."""
    from dantoc.catalogs.models import AdminUnit

    province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZA"))
    username = make("province_officer", province).username
    db.session.commit()
    return username


def test_attempts_on_two_servers_count_together(servers, verifications):
    first, _second = servers
    username = _officer()
    statuses = [attempt(servers[i % 2], username, f"guess {i}").status_code
                for i in range(14)]
    assert statuses == [200] * 10 + [429] * 4
    assert len(verifications) == 10
    # a new server (a restarted or recycled worker) sees the same count
    third = create_app(first.config)
    assert attempt(third, username, "guess").status_code == 429
    with third.app_context():
        db.engine.dispose()


def test_parallel_guesses_get_exactly_the_limit(servers, verifications):
    username = _officer()
    barrier = threading.Barrier(8)

    def guess(i):
        barrier.wait(timeout=30)
        return attempt(servers[i % 2], username, f"guess {i}").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(guess, range(24)))
    assert sorted(statuses) == [200] * 10 + [429] * 14, statuses
    assert len(verifications) == 10
    failed = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "auth.login_failed"))
    assert failed == 10


def test_the_window_slides_and_a_correct_sign_in_gives_its_attempt_back(servers, monkeypatch,
                                                                        store):
    clock = Clock(monkeypatch)
    first, second = servers
    username = _officer()
    for i in range(9):
        attempt(first, username, f"guess {i}")
    assert attempt(second, username, PASSWORD).status_code == 303  # not counted
    assert attempt(first, username, "guess 10").status_code == 200  # the 10th failure
    assert attempt(second, username, PASSWORD).status_code == 429
    clock.advance(16)
    final = attempt(second, username, PASSWORD)
    assert final.status_code == 303, final.get_data(as_text=True)[-3000:]
    if store == "database":  # old attempts are cleaned up as the window slides
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ThrottleAttempt)
                                 .where(ThrottleAttempt.at < clock.offset)) == 0


def test_a_known_browser_is_never_locked_out_by_the_address_limit(servers):
    first, second = servers
    for app in servers:
        app.config["LOGIN_LIMIT_IP"] = "4 per 15 minutes"  # the same rule, quicker to test
    username = _officer()
    owner = fresh_client(first)
    assert attempt(first, username, PASSWORD, owner).status_code == 303  # known now
    owner.post("/accounts/logout")
    # other phones behind the same carrier address make mistakes on other accounts
    statuses = [attempt(servers[i % 2], f"someone-{i}", "oops").status_code for i in range(6)]
    assert statuses == [200] * 4 + [429, 429]
    # a new browser at that address waits, even with the right password …
    assert attempt(second, username, PASSWORD).status_code == 429
    # … the owner's browser does not, on either server; another address does not either
    assert attempt(second, username, PASSWORD, owner).status_code == 303
    assert attempt(second, "someone-9", "oops",
                   environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_an_unreachable_redis_fails_closed_with_a_message_and_a_log(database_url, caplog):
    app = create_app(base_config(database_url) | {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})
    with app.app_context():
        username = make("province_officer", None).username
        db.session.commit()
        with caplog.at_level(logging.ERROR):
            response = attempt(app, username, PASSWORD)
        assert response.status_code == 503
        assert "Tạm thời chưa đăng nhập được" in response.get_data(as_text=True)
        assert "throttle store unreachable" in caplog.text
        json = attempt(app, username, PASSWORD, headers={"Accept": "application/json"})
        assert json.get_json()["code"] == "throttle_unavailable"
        assert fresh_client(app).get("/accounts/login").status_code == 200  # GET: no count
        db.session.remove()
        db.engine.dispose()


def test_an_unreachable_database_store_fails_closed(app, caplog):
    username = make("province_officer", None).username
    db.session.execute(sa.text("DROP TABLE throttle_attempts"))
    db.session.commit()
    with caplog.at_level(logging.ERROR):
        response = attempt(app, username, PASSWORD)
    assert response.status_code == 503
    assert "throttle store unreachable" in caplog.text


def test_pin_and_activation_counts_are_shared_too(servers):
    _first, _second = servers
    statuses = [fresh_client(servers[i % 2]).post("/accounts/activate", data={
        "code": f"AAAA-BBBB-{i:04d}", "pin": "2580", "pin_confirm": "2580"}).status_code
        for i in range(11)]
    assert statuses == [200] * 10 + [429]

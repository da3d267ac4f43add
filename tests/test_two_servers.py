"""Two app servers (issue 18 item 5): two gunicorn instances on two ports over one database
(this engine's) and one throttle store (the database, or Redis), workers recycled all the
time: a session made on one works on the other, a sign-out on one ends it on the other, and
the sign-in throttle counts the attempts on both together (benchmarks/throttle_two_servers.py
measures the same with the documented limits)."""

from __future__ import annotations

import importlib.util

import pytest

from dantoc.paths import ROOT
from tests import forks

SPEC = importlib.util.spec_from_file_location("two_servers",
                                              ROOT / "benchmarks/throttle_two_servers.py")
two = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(two)


@pytest.mark.parametrize("store", ["database", "redis://127.0.0.1:6379/0"])
def test_two_servers_share_sessions_revocation_and_the_throttle(database_url, monkeypatch,
                                                                store):
    monkeypatch.setenv("DANTOC_LOGIN_LIMIT_ACCOUNT", "4 per 15 minutes")
    monkeypatch.setenv("DANTOC_LOGIN_LIMIT_IP", "12 per 15 minutes")
    two.seed_officer(database_url)
    result = two.run(database_url, store, guesses=8, spray=12, popen=forks.Popen)
    assert result["session_shared"] and result["revoked"], result
    # 4 of the 8 guesses at one account are evaluated, whichever server and worker took them
    assert result["account"] == {200: 4, 429: 4}, result
    # the address has 12: the 4 failed guesses above count, so 8 of the spray are evaluated
    assert result["address"] == {200: 8, 429: 4}, result

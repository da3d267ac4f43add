"""Two instances over real HTTP: a centre and a province, each a gunicorn server on its own
database; ``flask sync pull`` at the province reads the centre through the fault-injecting
proxy (tests/browser/proxy.py), which refuses, then drops an answer in the middle of a list.
The catalogs arrive, a run after an interrupted one continues where it stopped, and a second
run adds nothing: no duplicates."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from types import SimpleNamespace

import sqlalchemy as sa

from dantoc.config import normalise_database_url
from tests.browser.conftest import ROOT, _Database, _flask, _free_port, _gunicorn, _server_env
from tests.browser.proxy import DROP, Proxy, Rule

#: (code, valid_from) of every unit, the indicators, the forms' versions: what must be equal.
HELD = {
    "units": "SELECT code, valid_from FROM admin_units ORDER BY code, valid_from",
    "indicators": "SELECT i.code, v.code FROM indicators i JOIN catalogue_versions v "
                  "ON v.id = i.catalogue_version_id ORDER BY 1, 2",
    "versions": "SELECT f.code, v.number, v.status FROM form_versions v JOIN forms f "
                "ON f.id = v.form_id ORDER BY 1, 2",
    "ethnic": "SELECT code, name FROM ethnic_groups ORDER BY code",
}


def held(engine) -> dict:
    with engine.connect() as connection:
        return {name: [tuple(map(str, r)) for r in connection.execute(sa.text(sql))]
                for name, sql in HELD.items()}


def pull(env: dict, proxy: Proxy) -> subprocess.CompletedProcess:
    """``flask sync pull`` at the province, as the timer runs it (peer and token from the
    environment), in pages of 100."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sync", "pull", "--page-size", "100",
         "--timeout", "5"], cwd=ROOT, env={**env, "DANTOC_SYNC_PEER": proxy.url},
        capture_output=True, text=True, timeout=120, check=False)


def test_pull_between_two_gunicorn_servers_through_a_faulty_network(tmp_path):
    centre_dir, province_dir = tmp_path / "centre", tmp_path / "province"
    centre_dir.mkdir()
    province_dir.mkdir()
    centre_db, province_db = _Database(centre_dir), _Database(province_dir)
    centre_port, province_port = _free_port(), _free_port()
    centre_env = _server_env(centre_db.create(), centre_port) | {"GUNICORN_WORKERS": "1"}
    engines, province_env = [], None
    try:
        _flask(centre_env, "db", "upgrade")
        _flask(centre_env, "seed-reference")
        # the province starts as a copy of the centre's reference data (SQLite backup or
        # PostgreSQL TEMPLATE), then the centre gets more
        province_env = _server_env(province_db.create(SimpleNamespace(database=centre_db)),
                                   province_port) | {"GUNICORN_WORKERS": "1"}
        _flask(centre_env, "seed-demo")  # villages, indicators and forms the province lacks
        token = _flask(centre_env, "api", "create-client", "tinh").strip().splitlines()[-1]
        province_env["DANTOC_SYNC_TOKEN"] = token
        centre, province = (sa.create_engine(normalise_database_url(env["DANTOC_DATABASE_URL"]),
                                             poolclass=sa.pool.NullPool)
                            for env in (centre_env, province_env))
        engines += [centre, province]
        want, before = held(centre), held(province)
        assert len(want["units"]) > len(before["units"]) + 100 and want != before

        with (_gunicorn(centre_env, centre_port, centre_dir / "gunicorn.log"),
              _gunicorn(province_env, province_port, province_dir / "gunicorn.log") as p_url,
              Proxy(centre_port) as proxy):
            # the network refuses: nothing is written, the error is kept for the screen
            proxy.set_mode("refuse")
            refused = pull(province_env, proxy)
            assert refused.returncode == 1 and "did not answer" in refused.stderr
            assert held(province) == before

            # the answer to the 2nd page of the units is lost after the centre sent it
            proxy.set_rules(Rule.of(DROP, paths=["/api/v1/admin-units?limit=100&cursor="]))
            dropped = pull(province_env, proxy)
            assert dropped.returncode == 1, dropped.stdout + dropped.stderr
            assert "admin-units: stopped" in dropped.stderr
            assert "ethnic-groups: 0 added" in dropped.stdout
            halfway = held(province)
            assert len(halfway["units"]) < len(want["units"])
            assert halfway["indicators"] == want["indicators"]  # the lists before it are in
            with province.connect() as connection:  # the first page is committed, and where
                assert connection.execute(sa.text(  # the list continues
                    "SELECT resource FROM sync_cursors")).scalars().all() == ["admin-units"]

            # the network is back: the run continues after the last committed page
            proxy.set_mode("pass")
            mark = proxy.mark()
            resumed = pull(province_env, proxy)
            assert resumed.returncode == 0, resumed.stdout + resumed.stderr
            units = [e.path for e in proxy.since(mark) if e.path.startswith(
                "/api/v1/admin-units")]
            assert "cursor=" in units[0]  # it did not start the list again
            assert held(province) == want  # everything, once

            again = pull(province_env, proxy)
            assert again.returncode == 0
            lines = again.stdout.splitlines()
            assert len(lines) == 8 and all(" 0 added, 0 changed, 0 retired" in line
                                           for line in lines), again.stdout
            assert held(province) == want

            with urllib.request.urlopen(  # noqa: S310 (http, built here)
                    p_url + "/api/v1/admin-units?limit=1") as answer:
                assert answer.status == 200  # the province serves what it pulled
        with province.connect() as connection:
            kinds = dict(connection.execute(sa.text(
                "SELECT resource, error_kind FROM sync_statuses WHERE direction = 'pull'"
            )).tuples().all())
            created = connection.scalar(sa.text(
                "SELECT count(*) FROM audit_events WHERE action = 'sync.unit.create'"))
        assert kinds["catalogue-versions"] == "unreachable"  # the refused run, kept
        assert kinds["admin-units"] == "unreachable"  # the dropped answer
        assert created == len(want["units"]) - len(before["units"])  # each unit created once
    finally:
        for engine in engines:
            engine.dispose()
        centre_db.drop()
        if province_env is not None:
            province_db.drop()

"""Two instances over real HTTP: a centre and a province, each a gunicorn server on its own
database, started once for the module; the province reaches the centre through the
fault-injecting proxy (tests/browser/proxy.py).

- ``flask sync pull`` at the province: the proxy refuses, a run is killed while it waits
  for a page, then the proxy drops an answer in the middle of a list. The catalogs and the
  document library arrive, a run after an interrupted one continues where it stopped, and a
  second run adds nothing: no duplicates.
- ``flask sync push`` at the province: a commune report approved there reaches the centre
  with the same figures; the answer to the first push is lost on the way back, the next
  push gets the centre's first answer again (same key), and a last push sends nothing: one
  copy at the centre.
- ``flask sync run`` at the province, later: a new indicator, a retired unit and a new
  document with its file, made at the centre, reach the province in one pass.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.catalogs.models import AdminUnit
from dantoc.config import normalise_database_url
from dantoc.documents import services as documents
from dantoc.exchange.models import ReceivedReport
from dantoc.extensions import db
from dantoc.indicators.models import Form, IndicatorGroup
from dantoc.reports import aggregate, queries, services
from dantoc.reports.models import UnitReport
from dantoc.submissions.queries import latest_published
from tests import forks
from tests.browser.conftest import ROOT, _Database, _flask, _free_port, _gunicorn, _server_env
from tests.browser.proxy import DROP, Proxy, Rule
from tests.conftest import base_config
from tests.documents_support import make_pdf, new_document, new_group
from tests.exchange_support import numbers
from tests.factories import make_period, make_user
from tests.factories.indicators import make_indicator
from tests.test_reports_support import COMMUNE, put

#: (code, valid_from) of every unit, the indicators, the forms' versions: what must be equal.
HELD = {
    "units": "SELECT code, valid_from FROM admin_units ORDER BY code, valid_from",
    "indicators": "SELECT i.code, v.code FROM indicators i JOIN catalogue_versions v "
                  "ON v.id = i.catalogue_version_id ORDER BY 1, 2",
    "versions": "SELECT f.code, v.number, v.status FROM form_versions v JOIN forms f "
                "ON f.id = v.form_id ORDER BY 1, 2",
    "ethnic": "SELECT code, name FROM ethnic_groups ORDER BY code",
    "documents": "SELECT d.number, d.state, g.slug FROM documents d JOIN document_groups g "
                 "ON g.id = d.group_id ORDER BY 1",
    "links": "SELECT s.number, l.kind, t.number FROM document_links l JOIN documents s "
             "ON s.id = l.source_id JOIN documents t ON t.id = l.target_id ORDER BY 1, 3",
}
#: The demo's quarterly village questionnaire (flask seed-demo at the centre), which the
#: province pulls; each of its communes has three demo villages (``<commune>-B01`` …).
QUARTERLY = "LC-DEMO-PT-QUY"
#: village → (households, poor households, security incidents) of the province's report.
VILLAGE_FIGURES = {"B01": (120, 30, 0), "B02": (85, 12, 1), "B03": (60, 9, 0)}


def held(engine) -> dict:
    with engine.connect() as connection:
        return {name: [tuple(map(str, r)) for r in connection.execute(sa.text(sql))]
                for name, sql in HELD.items()}


def flask_at(env: dict, *args: str) -> subprocess.CompletedProcess:
    """A ``flask`` command at an instance, as the timer runs it (peer and token from the
    environment)."""
    return forks.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                     env=env, capture_output=True, text=True, timeout=120, check=False)


def pull(env: dict, proxy: Proxy) -> subprocess.CompletedProcess:
    """``flask sync pull`` at the province through the proxy, in pages of 100."""
    return flask_at({**env, "DANTOC_SYNC_PEER": proxy.url}, "sync", "pull", "--page-size",
                    "100", "--timeout", "5")


def push(env: dict, proxy: Proxy) -> subprocess.CompletedProcess:
    """``flask sync push`` at the province through the proxy."""
    return flask_at({**env, "DANTOC_SYNC_PEER": proxy.url}, "sync", "push", "--timeout", "5")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """The centre (reference and demo data, an ``api_reporter`` client bound to the
    province) and the province (a copy of the centre's reference data only), each served by
    one gunicorn worker, and the proxy in front of the centre. The province's environment
    carries the centre's token (``DANTOC_SYNC_TOKEN``) as on a real install."""
    tmp_path = tmp_path_factory.mktemp("two-servers")
    centre_dir, province_dir = tmp_path / "centre", tmp_path / "province"
    centre_dir.mkdir()
    province_dir.mkdir()
    centre_db, province_db = _Database(centre_dir), _Database(province_dir)
    centre_port, province_port = _free_port(), _free_port()
    centre_env = _server_env(centre_db.create(), centre_port) | {
        "GUNICORN_WORKERS": "1", "DANTOC_DOCUMENT_STORAGE": str(centre_dir / "documents")}
    engines, province_env = [], None
    try:
        _flask(centre_env, "db", "upgrade")
        _flask(centre_env, "seed-reference")
        # the province starts as a copy of the centre's reference data (SQLite backup or
        # PostgreSQL TEMPLATE), then the centre gets more
        province_env = _server_env(province_db.create(SimpleNamespace(database=centre_db)),
                                   province_port) | {
            "GUNICORN_WORKERS": "1",
            "DANTOC_DOCUMENT_STORAGE": str(province_dir / "documents")}
        _flask(centre_env, "seed-demo")  # villages, indicators and forms the province lacks
        token = _flask(centre_env, "api", "create-client", "tinh", "--role", "api_reporter",
                       "--unit", "12").strip().splitlines()[-1]
        province_env["DANTOC_SYNC_TOKEN"] = token
        urls = [normalise_database_url(env["DANTOC_DATABASE_URL"])
                for env in (centre_env, province_env)]
        centre, province = (sa.create_engine(url, poolclass=sa.pool.NullPool) for url in urls)
        engines += [centre, province]
        want, before = held(centre), held(province)
        with (_gunicorn(centre_env, centre_port, centre_dir / "gunicorn.log"),
              _gunicorn(province_env, province_port, province_dir / "gunicorn.log") as p_url,
              Proxy(centre_port) as proxy):
            yield SimpleNamespace(centre_env=centre_env, province_env=province_env,
                                  centre=centre, province=province, centre_url=urls[0],
                                  province_url=urls[1], proxy=proxy, province_http=p_url,
                                  want=want, before=before)
    finally:
        for engine in engines:
            engine.dispose()
        centre_db.drop()
        if province_env is not None:
            province_db.drop()


def test_pull_between_two_gunicorn_servers_through_a_faulty_network(servers):
    s = servers
    province, proxy, province_env, want, before = (s.province, s.proxy, s.province_env,
                                                   s.want, s.before)
    assert held(province) == before, "the pull test runs first, on a province not pulled"
    assert len(want["units"]) > len(before["units"]) + 100 and want != before

    # the network refuses: nothing is written, the error is kept for the screen
    proxy.set_mode("refuse")
    refused = pull(province_env, proxy)
    assert refused.returncode == 1 and "did not answer" in refused.stderr
    assert held(province) == before

    # the run is killed (SIGKILL: no handler runs) while it waits for the 2nd page of the
    # units: the lists before it and the first page of units are committed
    second_page = "/api/v1/admin-units?limit=100&cursor="
    proxy.set_rules(Rule.of("blackhole", paths=[second_page]))
    mark = proxy.mark()
    killed = forks.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sync", "pull", "--page-size", "100",
         "--timeout", "60"], cwd=ROOT, env={**province_env, "DANTOC_SYNC_PEER": proxy.url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not any(e.path.startswith(second_page) for e in proxy.since(mark)):
            assert killed.poll() is None and time.monotonic() < deadline, "no 2nd page asked"
            time.sleep(0.1)
    finally:
        killed.kill()
        killed.wait()
    with province.connect() as connection:
        assert connection.execute(sa.text(
            "SELECT resource FROM sync_cursors")).scalars().all() == ["admin-units"]
    after_kill = held(province)
    assert after_kill["indicators"] == want["indicators"]  # the lists before it are in
    assert len(after_kill["units"]) < len(want["units"])

    # the answer to the 2nd page of the units is lost after the centre sent it
    proxy.set_rules(Rule.of(DROP, paths=[second_page]))
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
    units = [e.path for e in proxy.since(mark) if e.path.startswith("/api/v1/admin-units")]
    assert "cursor=" in units[0]  # it did not start the list again
    assert held(province) == want  # everything, once

    again = pull(province_env, proxy)
    assert again.returncode == 0
    lines = again.stdout.splitlines()
    assert len(lines) == 10 and all(" 0 added, 0 changed, 0 retired" in line
                                   for line in lines), again.stdout
    assert held(province) == want

    with urllib.request.urlopen(  # noqa: S310 (http, built here)
            s.province_http + "/api/v1/admin-units?limit=1") as answer:
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


def change_at_centre(url: str, storage: str) -> dict:
    """At the centre (an app on its database, next to its server): a new indicator in the
    demo's catalogue, a village retired, a new public decision with a PDF."""
    app = create_app(base_config(url) | {"DOCUMENT_STORAGE": storage})
    try:
        with app.app_context():
            form = db.session.scalar(sa.select(Form).where(Form.code == QUARTERLY))
            group = db.session.scalar(sa.select(IndicatorGroup).where(
                IndicatorGroup.catalogue_version_id == form.catalogue_version_id).limit(1))
            make_indicator(group, "households_with_solar_power", name="Số hộ dùng điện mặt trời")
            village = db.session.scalar(sa.select(AdminUnit).where(
                AdminUnit.code == f"{COMMUNE}-B03"))
            village.valid_to = date(2026, 11, 30)
            decision = new_document(new_group("Chuyển đổi số"), "88/QĐ-UBDT",
                                    "Kế hoạch chuyển đổi số vùng dân tộc thiểu số")
            pdf = documents.attach_file(decision, make_pdf("chuyen doi so"), "88.pdf")
            db.session.commit()
            return {"village": village.code, "sha256": pdf.sha256}
    finally:
        with app.app_context():
            db.engine.dispose()


def pulled_once(s) -> None:
    """The network passes; a test run alone has the province pull the catalogs first."""
    s.proxy.set_mode("pass")
    if held(s.province) != s.want:
        pulled = pull(s.province_env, s.proxy)
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr


def approve_at_province(url: str) -> tuple[str, int, dict]:
    """At the province (an app on its database, next to its server): the demo questionnaire
    of 2026-Q4 from the three villages of commune :data:`COMMUNE`, approved, the commune's
    report submitted by its officer and approved by the province. Returns the report's
    (unit code, version, figures)."""
    app = create_app(base_config(url))
    try:
        with app.app_context():
            version = latest_published(db.session.scalar(sa.select(Form).where(
                Form.code == QUARTERLY)))
            period = make_period("2026-Q4", period_type="quarter", start=date(2026, 10, 1),
                                 end=date(2026, 12, 31))
            commune = make_user("commune_officer", unit_code=COMMUNE)
            for suffix, (households, poor, incidents) in VILLAGE_FIGURES.items():
                village = db.session.scalar(sa.select(AdminUnit).where(
                    AdminUnit.code == f"{COMMUNE}-{suffix}"))
                put(version, village, period, {
                    "households": Decimal(households), "poor_households": Decimal(poor),
                    "security_incidents": Decimal(incidents)})
            target = queries.target(QUARTERLY, period.code, commune.unit_id)
            report = services.submit(target, commune, 0, {})
            db.session.commit()
            services.decide(report, "approve", make_user("province_officer"), report.version)
            db.session.commit()
            report = db.session.get(UnitReport, report.id)
            figures = numbers(aggregate.compute(queries.target_of(report), report).figures)
            return report.unit.code, report.version, figures
    finally:
        with app.app_context():
            db.engine.dispose()


def received_at_centre(app) -> dict:
    """unit code → [(source version, figures)] of the reports the centre received."""
    with app.app_context():
        found = {}
        for r in db.session.scalars(sa.select(ReceivedReport).order_by(ReceivedReport.id)):
            found.setdefault(r.unit.code, []).append((r.source_version, numbers(r.figures)))
        db.session.remove()
        return found


def test_an_approved_province_report_reaches_the_centre_once(servers):
    s = servers
    pulled_once(s)
    unit_code, version, figures = approve_at_province(s.province_url)
    centre = create_app(base_config(s.centre_url))  # to read what the centre received
    assert figures[("households", "")] == Decimal(265)  # 120 + 85 + 60
    assert figures[("security_incidents", "")] == Decimal(1)
    assert received_at_centre(centre) == {}

    # the centre stores the report, but its answer is lost on the way back
    s.proxy.set_rules(Rule.of(DROP, methods={"POST"}, paths=["/api/v1/reports"]))
    lost = push(s.province_env, s.proxy)
    assert lost.returncode == 1 and "reports: stopped" in lost.stderr, lost.stderr
    assert received_at_centre(centre) == {unit_code: [(version, figures)]}

    # the next push sends it again with the same key and gets the first answer (201) back
    s.proxy.set_mode("pass")
    mark = s.proxy.mark()
    resumed = push(s.province_env, s.proxy)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "reports: 1 sent, 0 already at the centre" in resumed.stdout
    assert [(e.method, e.path) for e in s.proxy.since(mark)] == [("POST", "/api/v1/reports")]

    again = push(s.province_env, s.proxy)
    assert again.returncode == 0 and "reports: 0 sent, 0 already" in again.stdout
    assert received_at_centre(centre) == {unit_code: [(version, figures)]}  # one copy
    with s.province.connect() as connection:
        pushed = connection.execute(sa.text(
            "SELECT report_version FROM sync_pushes")).scalars().all()
        kind, failed_at, succeeded_at, added = connection.execute(sa.text(
            "SELECT error_kind, failed_at, succeeded_at, added FROM sync_statuses "
            "WHERE direction = 'push'")).one()
    assert pushed == [version]  # remembered once
    # the sync screen: the lost answer is kept, the last pass succeeded after it, sent nothing
    assert kind == "unreachable" and succeeded_at > failed_at and added == 0
    with s.centre.connect() as connection:  # stored once, under the one key (a replay)
        assert connection.scalar(sa.text(
            "SELECT count(*) FROM audit_events WHERE action LIKE 'received.%'")) == 1
        assert connection.scalar(sa.text("SELECT count(*) FROM idempotency_keys")) == 1
    with centre.app_context():
        db.engine.dispose()


def test_a_later_run_brings_what_the_centre_changed(servers):
    s = servers
    pulled_once(s)
    changed = change_at_centre(s.centre_url, s.centre_env["DANTOC_DOCUMENT_STORAGE"])

    ran = flask_at({**s.province_env, "DANTOC_SYNC_PEER": s.proxy.url}, "sync", "run",
                   "--timeout", "5")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert "indicators: 1 added, 0 changed" in ran.stdout
    assert any(line.startswith("admin-units: 0 added, 0 changed, 1 retired") for line in lines)
    assert "documents: 1 added" in ran.stdout and "document-groups: 1 added" in ran.stdout
    assert lines[-1].startswith("reports: ")  # then the push, in the same pass
    with s.province.connect() as connection:
        assert connection.scalar(sa.text(
            "SELECT count(*) FROM indicators WHERE code = 'households_with_solar_power'")) == 1
        assert str(connection.scalar(sa.text(
            "SELECT valid_to FROM admin_units WHERE code = :code"), {"code": changed["village"]}
        )) == "2026-11-30"
        sha256, origin = connection.execute(sa.text(
            "SELECT f.sha256, d.synced_from FROM document_files f JOIN documents d "
            "ON d.id = f.document_id WHERE d.number = '88/QĐ-UBDT'")).one()
    assert sha256 == changed["sha256"] and origin == s.proxy.url
    stored = Path(s.province_env["DANTOC_DOCUMENT_STORAGE"]) / sha256[:2] / sha256
    assert stored.read_bytes().startswith(b"%PDF-")  # downloaded through the proxy

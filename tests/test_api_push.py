"""Reports up and DHIS2 between two instances: the province (the ``app`` fixture, with two
approved commune reports) pushes to the centre (a second app on its own database), which
first pulled the catalogs from it; a dataValueSets export at one instance imported at the
other gives the same figures."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from dantoc import create_app
from dantoc.api.idempotency import IdempotencyKey
from dantoc.exchange.models import ReceivedReport
from dantoc.extensions import db
from dantoc.reports import aggregate, services
from dantoc.reports.models import UnitReport
from dantoc.reports.queries import child_states, target_of
from dantoc.sync import cli as sync_cli
from dantoc.sync import pull as sync
from dantoc.sync import push as pushing
from dantoc.sync.models import SyncPush, SyncStatus
from tests.api_support import make_client
from tests.conftest import base_config
from tests.exchange_support import approved_world, bound_client, load_mappings, numbers
from tests.factories import browser, make_period, make_user
from tests.test_reports_support import COMMUNE, OTHER_COMMUNE, add_version, village_values

CENTRE = "https://centre.example"
PROVINCE = "https://province.example"


class Dropped(Exception):
    pass


class Transport:
    """An instance's test client behind a URL. ``refuse_at``: the n-th POST answers 500
    without reaching the app; ``drop_at``: the n-th POST reaches the app, which stores the
    report, but its answer is lost on the way back."""

    def __init__(self, app, base: str, refuse_at: int | None = None,
                 drop_at: int | None = None):
        self.http, self.base = FlaskClient(app), base
        self.posts, self.refuse_at, self.drop_at = 0, refuse_at, drop_at
        self.replayed = 0

    def get(self, url: str, headers: dict) -> tuple[int, object]:
        response = self.http.get(url.removeprefix(self.base), headers=headers)
        return response.status_code, response.get_json(silent=True)

    def post(self, url: str, headers: dict, body: dict) -> tuple[int, object]:
        assert url == self.base + "/api/v1/reports"
        self.posts += 1
        if self.posts == self.refuse_at:
            return 500, {"detail": "Lỗi máy chủ"}
        response = self.http.post(url.removeprefix(self.base), headers=headers,
                                  data=json.dumps(body), content_type="application/json")
        self.replayed += response.headers.get("Idempotent-Replayed") == "true"
        if self.posts == self.drop_at:
            raise sync.SyncError(f"the peer {url} did not answer: connection reset")
        return response.status_code, response.get_json(silent=True)


@pytest.fixture
def province(app):
    """The province: two approved commune reports (2026-Q4), a reader token for the
    centre's pull."""
    world = approved_world()
    token = make_client(name="trung-uong")[1]["Authorization"].removeprefix("Bearer ")
    return world, token


@pytest.fixture
def centre(app, province, databases):
    """The centre: its own database, the catalogs pulled from the province, the period, and
    a push token bound to province 12."""
    _world, token = province
    url = databases.new()
    centre = create_app(base_config(url))
    with centre.app_context():
        sync.pull(PROVINCE, token, Transport(app, PROVINCE))
        make_period("2026-Q4", period_type="quarter")
        push_token = bound_client("12", name="tinh-12")[1]["Authorization"].removeprefix(
            "Bearer ")
        db.session.commit()
    yield centre, push_token
    with centre.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


def province_figures(world) -> dict:
    found = {}
    for code, report in world.reports.items():
        report = db.session.get(UnitReport, report.id)
        found[code] = numbers(aggregate.compute(target_of(report), report).figures)
    db.session.rollback()
    return found


def at_centre(centre_app) -> dict:
    """unit code → (source version, figures) of the received reports at the centre."""
    with centre_app.app_context():
        received = {r.unit.code: (r.source_version, numbers(r.figures)) for r in
                    db.session.scalars(sa.select(ReceivedReport))}
        db.session.rollback()
    return received


def test_approved_reports_reach_the_centre_with_the_same_figures_once(app, province, centre):
    world, _token = province
    centre_app, token = centre
    want = province_figures(world)
    counts = pushing.push(CENTRE, token, Transport(centre_app, CENTRE))
    assert counts.sent == 2 and counts.already_there == 0
    received = at_centre(centre_app)
    assert set(received) == {COMMUNE, OTHER_COMMUNE}
    for code, (_version, figures) in received.items():
        assert figures == want[code]
    assert want[COMMUNE][("households", "")] == Decimal(18)
    assert db.session.scalar(sa.select(sa.func.count(SyncPush.id))) == 2

    again = Transport(centre_app, CENTRE)
    counts = pushing.push(CENTRE, token, again)  # safe to run twice: nothing to send
    assert counts.sent == counts.already_there == 0 and again.posts == 0
    assert at_centre(centre_app) == received


def test_a_push_whose_answer_was_lost_resumes_without_a_duplicate(app, province, centre):
    world, _token = province
    centre_app, token = centre
    lossy = Transport(centre_app, CENTRE, drop_at=2)
    with pytest.raises(sync.SyncError, match="did not answer"):
        pushing.push(CENTRE, token, lossy)
    # the centre stored both, the province remembers only the first (the second's answer
    # was lost)
    assert len(at_centre(centre_app)) == 2
    assert db.session.scalar(sa.select(sa.func.count(SyncPush.id))) == 1

    resumed = Transport(centre_app, CENTRE)
    counts = pushing.push(CENTRE, token, resumed)
    assert resumed.posts == 1 and resumed.replayed == 1 and counts.sent == 1
    assert db.session.scalar(sa.select(sa.func.count(SyncPush.id))) == 2
    with centre_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReceivedReport.id))) == 2
        assert db.session.scalar(sa.select(sa.func.count(IdempotencyKey.id))) == 2
    want = province_figures(world)
    assert {code: figures for code, (_v, figures) in at_centre(centre_app).items()} == want


def test_a_centre_that_answers_500_stops_the_pass_in_words(app, province, centre, capsys):
    centre_app, token = centre
    with pytest.raises(SystemExit) as stopped:
        sync_cli.run_push(CENTRE, token, Transport(centre_app, CENTRE, refuse_at=2))
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert "reports: stopped: report " in err and "HTTP 500: Lỗi máy chủ" in err
    assert db.session.scalar(sa.select(sa.func.count(SyncPush.id))) == 1
    pushed = db.session.scalar(sa.select(SyncStatus))  # what the sync screen shows
    assert (pushed.direction, pushed.peer, pushed.resource) == ("push", CENTRE, "reports")
    assert pushed.failing and pushed.succeeded_at is None
    assert pushed.error_kind == "refused" and pushed.error_params["status"] == 500
    stopped_at = db.session.get(UnitReport, pushed.error_params["report_id"])
    assert stopped_at.unit.code == OTHER_COMMUNE
    admin = make_user("admin", unit_code=None)
    page = browser(app, admin, locale="vi").get("/sync/").get_data(as_text=True)
    assert f"Báo cáo: {stopped_at.form.name} – {stopped_at.unit.name} – Quý 4/2026." in page
    assert "Máy chủ trung ương gặp lỗi (HTTP 500)" in page
    sync_cli.run_push(CENTRE, token, Transport(centre_app, CENTRE))
    assert "reports: 1 sent, 0 already at the centre" in capsys.readouterr().out
    assert len(at_centre(centre_app)) == 2
    db.session.refresh(pushed)
    assert not pushed.failing and (pushed.added, pushed.changed, pushed.unchanged) == (1, 0, 0)


def test_a_wrong_token_is_refused_and_nothing_is_remembered(app, province, centre):
    centre_app, _token = centre
    with pytest.raises(sync.SyncError, match="HTTP 401"):
        pushing.push(CENTRE, "dtk_wrong", Transport(centre_app, CENTRE))
    assert db.session.scalar(sa.select(sa.func.count(SyncPush.id))) == 0
    assert at_centre(centre_app) == {}


def test_a_report_reopened_and_approved_again_replaces_the_figures(app, province, centre):
    world, _token = province
    centre_app, token = centre
    pushing.push(CENTRE, token, Transport(centre_app, CENTRE))
    first_version = at_centre(centre_app)[COMMUNE][0]
    officer = make_user("commune_officer", unit_code=COMMUNE)
    report = db.session.get(UnitReport, world.reports[COMMUNE].id)
    services.decide(report, "reopen", world.province, report.version, reason="Sửa số hộ")
    db.session.commit()
    # a village is corrected meanwhile (a new approved version with more households)
    village = world.world.villages[0]
    submission = next(c.submission for c in child_states(target_of(report))
                      if c.unit.id == village.id)
    add_version(submission, 2, village_values(15, 5, 2, poor=1))
    submission.current_version = 2
    db.session.commit()
    report = services.submit(target_of(report), officer, report.version, {})
    db.session.commit()
    services.decide(report, "approve", world.province, report.version)
    db.session.commit()

    counts = pushing.push(CENTRE, token, Transport(centre_app, CENTRE))
    assert counts.sent == 0 and counts.already_there == 1  # the same report, a new version
    pushed = db.session.scalar(sa.select(SyncStatus).where(SyncStatus.direction == "push"))
    assert (pushed.added, pushed.changed, pushed.unchanged) == (0, 1, 0)  # the sync screen's
    version, figures = at_centre(centre_app)[COMMUNE]
    assert version > first_version
    assert figures[("households", "")] == Decimal(23)  # 15 + 8
    assert figures == province_figures(world)[COMMUNE]


def test_a_data_value_set_round_trip_gives_the_same_figures(app, province, centre):
    world, _token = province
    centre_app, _push_token = centre
    catalogue = world.world.version.form.catalogue_version.code
    load_mappings(catalogue)
    reader = make_client(name="dhis2-reader")[1]
    documents = []
    for code in (COMMUNE, OTHER_COMMUNE):
        response = app.test_client().get(
            f"/api/v1/dhis2/dataValueSets?period=2026Q4&orgUnit=OU{code}", headers=reader)
        assert response.status_code == 200
        documents.append(response.get_json())
    want = province_figures(world)
    mapped = {("households", ""), ("poor_households", ""),
              ("population", "ethnic_group=03;sex=female"),
              ("population", "ethnic_group=01;sex=male")}
    with centre_app.app_context():
        load_mappings(catalogue)
        headers = bound_client("12", name="he-thong-khac")[1]
        http = centre_app.test_client()
        for document in documents:
            response = http.post("/api/v1/dhis2/dataValueSets", json=document,
                                 headers=headers)
            assert response.status_code == 201, response.get_json()
        drafts = {r.unit.code: (r.state, numbers(r.figures)) for r in db.session.scalars(
            sa.select(ReceivedReport))}
        db.session.rollback()
    for code in (COMMUNE, OTHER_COMMUNE):
        state, figures = drafts[code]
        assert state == "draft"
        assert figures == {key: value for key, value in want[code].items() if key in mapped}
        assert len(figures) == 4


def test_the_centre_exports_the_reports_it_received(app, province, centre):
    world, _token = province
    centre_app, token = centre
    pushing.push(CENTRE, token, Transport(centre_app, CENTRE))
    want = province_figures(world)[COMMUNE]
    catalogue = world.world.version.form.catalogue_version.code
    with centre_app.app_context():
        load_mappings(catalogue)
        reader = make_client(name="bo-doc")[1]
        response = centre_app.test_client().get(
            f"/api/v1/dhis2/dataValueSets?period=2026Q4&orgUnit=OU{COMMUNE}", headers=reader)
        db.session.rollback()
    assert response.status_code == 200
    values = {(v["dataElement"], v["categoryOptionCombo"]): Decimal(v["value"])
              for v in response.get_json()["dataValues"]}
    assert values == {("deHouseho01", "HllvX50cXC0"): want[("households", "")],
                      ("dePoorHou01", "HllvX50cXC0"): want[("poor_households", "")],
                      ("dePopulat01", "cocThaiF001"): want[
                          ("population", "ethnic_group=03;sex=female")],
                      ("dePopulat01", "cocKinhM001"): want[
                          ("population", "ethnic_group=01;sex=male")]}

"""``flask sync pull`` between two instances: the centre's app answers through its test
client (the transport), the province's app has its own database."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from dantoc import create_app
from dantoc.audit.models import AuditEvent
from dantoc.catalogs.models import AdminLevel, AdminUnit, EthnicGroup, Religion, UnitLineage
from dantoc.extensions import db
from dantoc.indicators.models import (
    CatalogueVersion,
    Form,
    FormVersion,
    Indicator,
    IndicatorGroup,
)
from dantoc.sync import cli as sync_cli
from dantoc.sync import pull as sync
from dantoc.sync.models import SyncCursor
from tests.api_support import make_client
from tests.conftest import base_config
from tests.factories_submissions import make_questionnaire
from tests.security_tree import build_tree

PEER = "https://centre.example"


class Transport:
    """The centre's test client behind a URL; ``fail_at`` makes its n-th answer a 500."""

    def __init__(self, app, fail_at: int | None = None):
        self.http = FlaskClient(app)
        self.calls, self.fail_at, self.urls = 0, fail_at, []

    def get(self, url: str, headers: dict) -> tuple[int, object]:
        assert url.startswith(PEER + "/api/v1/")
        self.calls += 1
        self.urls.append(url)
        if self.calls == self.fail_at:
            return 500, {"detail": "Lỗi máy chủ"}
        response = self.http.get(url.removeprefix(PEER), headers=headers)
        return response.status_code, response.get_json(silent=True)

    def download(self, url: str, headers: dict) -> tuple[int, bytes | None]:
        assert url.startswith(PEER + "/api/v1/")
        self.calls += 1
        self.urls.append(url)
        if self.calls == self.fail_at:
            return 500, None
        response = self.http.get(url.removeprefix(PEER), headers=headers)
        data = response.get_data()
        response.close()
        return response.status_code, data if response.status_code == 200 else None


@pytest.fixture
def centre(app):
    """The centre (the ``app`` fixture's instance): a unit tree with a merge, a new
    questionnaire catalogue with disaggregations, and a client token for the province."""
    build_tree()
    make_questionnaire()
    return app, make_client(name="tinh")[1]["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def province(databases):
    url = databases.new()
    app = create_app(base_config(url))
    yield app
    with app.app_context():
        db.engine.dispose()
    databases.drop(url)


def snapshot() -> dict:
    """What the province holds, comparable between the two databases."""
    units = sorted(db.session.execute(sa.select(
        AdminUnit.code, AdminUnit.valid_from, AdminUnit.valid_to, AdminUnit.name)).all())
    # (the factory links an indicator's disaggregations all at position 0: their order is
    # the database's, so they are compared as a set)
    indicators = sorted((i.code, i.name, tuple(c.code for c in i.choices),
                         tuple(sorted(d.code for d in i.disaggregations)))
                        for i in db.session.scalars(sa.select(Indicator)))
    held = {"units": units, "indicators": indicators,
            "lineage": db.session.scalar(sa.select(sa.func.count(UnitLineage.id))),
            "ethnic": sorted(db.session.execute(sa.select(
                EthnicGroup.code, EthnicGroup.name, EthnicGroup.common_name)).all()),
            "religions": sorted(db.session.execute(sa.select(Religion.name)).scalars())}
    db.session.rollback()  # end the read: the other instance writes to its own database
    return held


def test_pull_copies_the_catalogs_and_a_second_pass_changes_nothing(centre, province):
    app, token = centre
    want = snapshot()
    with province.app_context():
        before = snapshot()
        assert before != want  # the province lacks the tree and the new indicators
        result = sync.pull(PEER, token, Transport(app), limit=7)
        assert snapshot() == want
        assert result["indicators"].added == len(want["indicators"])
        assert result["admin-units"].added == 9 and result["admin-units"].problems == []
        assert result["ethnic-groups"].added == result["ethnic-groups"].changed == 0
        merged = db.session.scalar(sa.select(UnitLineage).join(
            AdminUnit, UnitLineage.from_unit_id == AdminUnit.id).where(AdminUnit.code == "ZZO"))
        assert merged.kind == "merge" and merged.to_unit.code == "ZZB"
        group = db.session.scalar(sa.select(IndicatorGroup).where(IndicatorGroup.code == "G1"))
        assert group.catalogue_version.code.startswith("TST-")
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action == "sync.unit.create")) == 9
        # lists read to their end keep no cursor; the feeds keep the moment they reached
        kept = {c.resource: json.loads(c.cursor) for c in db.session.scalars(
            sa.select(SyncCursor))}
        assert set(kept) == sync.FEEDS
        assert all(k["cursor"] is None and k["reached"] is None for k in kept.values())

        again = sync.pull(PEER, token, Transport(app), limit=7)
        assert all(c.added == c.changed == 0 for c in again.values()), again
        assert snapshot() == want


def test_a_retired_unit_and_a_renamed_group_reach_the_province(centre, province):
    app, token = centre
    with province.app_context():
        sync.pull(PEER, token, Transport(app))
    retired = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZD"))
    retired.valid_to = date(2026, 3, 31)
    thai = db.session.scalar(sa.select(EthnicGroup).where(EthnicGroup.code == "03"))
    thai.common_name = "Thái (đã sửa)"
    health = db.session.scalar(sa.select(Indicator).where(Indicator.code == "health_access"))
    health.choices[0].label = "Rất gần"  # same code, new label
    db.session.commit()
    with province.app_context():
        result = sync.pull(PEER, token, Transport(app))
        # (a unit given an end of validity is counted as retired, not as changed)
        assert result["admin-units"].retired == 1 and result["admin-units"].changed == 0
        assert result["ethnic-groups"].changed == 1
        assert result["indicators"].changed == 1
        province_health = db.session.scalar(sa.select(Indicator).where(
            Indicator.code == "health_access"))
        assert province_health.choices[0].label == "Rất gần"
        assert len(province_health.choices) == 3
        unit = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZD"))
        assert unit.valid_to == date(2026, 3, 31)
        assert db.session.scalar(sa.select(EthnicGroup.common_name).where(
            EthnicGroup.code == "03")) == "Thái (đã sửa)"


def test_an_interrupted_pull_resumes_after_the_last_committed_page(centre, province):
    app, token = centre
    first = db.session.scalar(sa.select(EthnicGroup).order_by(EthnicGroup.id).limit(1))
    last = db.session.scalar(sa.select(EthnicGroup).order_by(EthnicGroup.id.desc()).limit(1))
    first.note, last.note = "đầu", "cuối"
    first_code, last_code = first.code, last.code
    db.session.commit()
    with province.app_context():
        broken = Transport(app, fail_at=3)
        with pytest.raises(sync.SyncError, match="HTTP 500: Lỗi máy chủ"):
            sync.pull_resource(PEER, token, "ethnic-groups", broken, limit=10)
        stored = db.session.scalar(sa.select(SyncCursor))
        assert stored.resource == "ethnic-groups" and stored.peer == PEER
        notes = dict(db.session.execute(sa.select(EthnicGroup.code, EthnicGroup.note)).all())
        assert notes[first_code] == "đầu" and notes[last_code] != "cuối"

        resumed = Transport(app)
        counts = sync.pull_resource(PEER, token, "ethnic-groups", resumed, limit=10)
        assert "cursor=" in resumed.urls[0]  # it did not start again
        assert counts.pages == 4 and counts.changed == 1  # pages 3 to 6 of 54 rows
        assert db.session.scalar(sa.select(EthnicGroup.note).where(
            EthnicGroup.code == last_code)) == "cuối"
        assert db.session.scalar(sa.select(sa.func.count(EthnicGroup.id))) == 54
        assert db.session.scalar(sa.select(sa.func.count(SyncCursor.id))) == 0


def test_a_refusal_stops_the_pass_with_words_and_keeps_nothing_half_written(
        centre, province, capsys):
    app, _token = centre
    with province.app_context():
        before = snapshot()
        with pytest.raises(SystemExit) as stopped:
            sync_cli.run(PEER, "dtk_wrong", sync.RESOURCES, Transport(app))
        assert stopped.value.code == 1
        assert "HTTP 401" in capsys.readouterr().err
        assert snapshot() == before


def test_a_page_that_cannot_be_stored_is_rolled_back(centre, province):
    """A unit at a level the province does not know: the page is refused whole."""
    app, token = centre
    with province.app_context():
        class Mangled(Transport):
            def get(self, url, headers):
                status, body = super().get(url, headers)
                if body and body.get("items"):
                    body["items"][-1]["level"] = "galaxy"
                return status, body

        with pytest.raises(sync.SyncError, match="galaxy"):
            sync.pull_resource(PEER, token, "admin-units", Mangled(app), limit=500)
        assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id)).where(
            AdminUnit.code.like("ZZ%"))) == 0


def test_the_cli_prints_one_line_per_list(centre, province, capsys):
    app, token = centre
    with province.app_context():
        sync_cli.run(PEER, token, sync.RESOURCES, Transport(app))
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == list(sync.RESOURCES)
    assert "admin-units: 9 added, 0 changed" in out[5]


def test_forms_arrive_with_their_layout_and_later_their_retirement(centre, province):
    app, token = centre
    bieu = make_questionnaire(sections=1)
    bieu.form.kind = "bieu"
    db.session.commit()
    codes = {"questionnaires": db.session.scalar(sa.select(Form.code).where(
        Form.kind == "phieu")), "report-forms": bieu.form.code}
    centre_http, headers = FlaskClient(app), make_client(name="reader")[1]
    layouts = {resource: centre_http.get(f"/api/v1/{resource}/{code}/versions/1",
                                         headers=headers).get_json()
               for resource, code in codes.items()}
    db.session.rollback()
    with province.app_context():
        result = sync.pull(PEER, token, Transport(app))
        assert result["report-forms"].added == result["questionnaires"].added == 1
        province_headers = make_client(name="reader-here")[1]
        province_http = FlaskClient(province)
        for resource, code in codes.items():  # the province serves the same definition
            here = province_http.get(f"/api/v1/{resource}/{code}/versions/1",
                                     headers=province_headers).get_json()
            assert here == layouts[resource]
        again = sync.pull(PEER, token, Transport(app))
        assert again["report-forms"].changed == again["questionnaires"].changed == 0
    bieu = db.session.get(FormVersion, bieu.id)
    bieu.status = "retired"
    db.session.commit()
    with province.app_context():
        result = sync.pull(PEER, token, Transport(app), resources=("report-forms",))
        assert (result["report-forms"].retired, result["report-forms"].changed) == (1, 0)
        assert db.session.scalar(sa.select(FormVersion.status).join(Form).where(
            Form.code == codes["report-forms"])) == "retired"


def test_a_local_draft_in_the_way_of_a_published_version_stops_the_pass(centre, province):
    app, token = centre
    code = db.session.scalar(sa.select(Form.code).where(Form.kind == "phieu"))
    db.session.rollback()
    with province.app_context():
        sync.pull(PEER, token, Transport(app), resources=sync.RESOURCES[:3])
        version = db.session.scalar(sa.select(CatalogueVersion).where(
            CatalogueVersion.code.like("TST-%")))
        form = Form(code=code, kind="phieu", name="Nháp tại tỉnh",
                    catalogue_version_id=version.id)
        db.session.add(form)
        db.session.flush()
        village = db.session.scalar(sa.select(AdminLevel).where(AdminLevel.code == "village"))
        db.session.add(FormVersion(form_id=form.id, number=1, status="draft",
                                   fill_level_id=village.id, period_type="year"))
        db.session.commit()
        with pytest.raises(sync.SyncError, match="is a draft here"):
            sync.pull(PEER, token, Transport(app), resources=("questionnaires",))
        assert db.session.scalar(sa.select(Form.name).where(Form.code == code)) == (
            "Nháp tại tỉnh")


def test_the_http_transport_over_a_real_server(centre, province):
    from werkzeug.serving import make_server

    app, token = centre
    server = make_server("127.0.0.1", 0, app, threaded=False)
    url = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with province.app_context():
            result = sync.pull(url, token, sync.HttpTransport(timeout=30),
                               resources=("ethnic-groups", "admin-units"))
            assert result["admin-units"].added == 9
            with pytest.raises(sync.SyncError, match="HTTP 401: "):
                sync.pull(url, "dtk_wrong", sync.HttpTransport(timeout=30),
                          resources=("religions",))
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    with province.app_context(), pytest.raises(sync.SyncError, match="did not answer"):
        sync.pull(url, token, sync.HttpTransport(timeout=5), resources=("religions",))
    with province.app_context(), pytest.raises(sync.SyncError, match="not an http"):
        sync.pull("file:///etc", token, sync.HttpTransport(), resources=("religions",))


def test_a_unit_listed_before_its_parent_is_placed_at_the_end(centre, province):
    app, token = centre
    from tests.security_tree import add_unit

    tree_top = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZA"))
    child = add_unit("ZZK", "Bản K", "village", tree_top)
    parent = add_unit("ZZP", "Xã P", "commune", tree_top)
    child.parent_id = parent.id  # the child's id is smaller: the API lists it first
    db.session.commit()
    with province.app_context():
        result = sync.pull(PEER, token, Transport(app), resources=("admin-units",), limit=3)
        assert result["admin-units"].problems == []
        placed = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZK"))
        assert placed.parent.code == "ZZP"

        class WithoutParent(Transport):
            def get(self, url, headers):
                status, body = super().get(url, headers)
                body["items"] = [i for i in body["items"] if i["code"] != "ZZP"]
                return status, body

        for code in ("ZZK", "ZZP"):  # as if the province had never seen them
            db.session.delete(db.session.scalar(sa.select(AdminUnit).where(
                AdminUnit.code == code)))
            db.session.flush()
        db.session.commit()
        again = sync.pull(PEER, token, WithoutParent(app), resources=("admin-units",), limit=3)
        assert again["admin-units"].problems == [
            "unit ZZK (from 2000-01-01): its parent ZZP (from 2000-01-01) is missing at the "
            "peer"]
        assert db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.code == "ZZK")) is None

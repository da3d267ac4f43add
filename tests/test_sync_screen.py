"""The sync screen: each pull and push pass records, per list, its last success, its counts
added/changed/retired and its last error (``sync_statuses``), and ``/sync/`` shows them in
Vietnamese to who may run the sync; the others get 403."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dantoc import create_app
from dantoc.catalogs.models import AdminUnit
from dantoc.extensions import db
from dantoc.sync import pull as sync
from dantoc.sync.models import PULL, SyncStatus
from tests.api_support import make_client
from tests.conftest import base_config
from tests.factories import browser, make_user
from tests.security_tree import build_tree
from tests.test_api_sync import PEER, Transport

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def centre(app):
    build_tree()
    return app, make_client(name="tinh")[1]["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def province(databases):
    url = databases.new()
    app = create_app(base_config(url) | {"SYNC_PEER": PEER + "/"})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


def statuses() -> dict[str, SyncStatus]:
    found = {s.resource: s for s in db.session.scalars(
        sa.select(SyncStatus).where(SyncStatus.direction == PULL, SyncStatus.peer == PEER))}
    return found


def local(moment) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZONE).strftime("%H:%M %d/%m/%Y")  # the house style (formatting.py)


def page_text(app) -> str:
    admin = make_user("admin", unit_code=None)
    response = browser(app, admin, locale="vi").get("/sync/")
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_each_pass_records_its_counts_and_the_retired_unit(centre, province):
    app, token = centre
    with province.app_context():
        sync.pull(PEER, token, Transport(app))
        first = statuses()
        assert set(first) == set(sync.RESOURCES)
        assert (first["admin-units"].added, first["admin-units"].changed,
                first["admin-units"].retired) == (9, 0, 0)
        held = first["admin-units"].added + first["admin-units"].unchanged
        assert all(s.succeeded_at is not None and not s.failing for s in first.values())
        db.session.rollback()
    retired = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "ZZD"))
    retired.valid_to = date(2026, 3, 31)
    db.session.commit()
    with province.app_context():
        sync.pull(PEER, token, Transport(app))
        units = statuses()["admin-units"]
        assert (units.added, units.changed, units.retired, units.unchanged) == (0, 0, 1, held - 1)
        text = page_text(province)
        assert "Đồng bộ dữ liệu" in text and f"Với {PEER}" in text
        assert f"Thành công gần nhất: {local(units.succeeded_at)}" in text
        assert ("Đơn vị hành chính Nhận từ trung ương Thành công gần nhất: "
                f"{local(units.succeeded_at)} Thêm mới 0, cập nhật 0, ngừng hiệu lực 1, "
                f"không đổi {held - 1}") in text
        assert "Báo cáo đã duyệt Gửi lên trung ương Chưa có lần đồng bộ nào hoàn tất." in text
        assert "admin-units" not in text and "Lỗi gần nhất" not in text


def test_a_stopped_pass_records_the_error_and_the_page_says_it_in_words(centre, province):
    app, token = centre
    with province.app_context():
        with pytest.raises(sync.SyncError):
            sync.pull_resource(PEER, token, "ethnic-groups", Transport(app, fail_at=2), limit=10)
        groups = statuses()["ethnic-groups"]
        assert groups.succeeded_at is None and groups.failing
        assert groups.error_kind == "refused" and groups.error_params["status"] == 500
        assert "HTTP 500" in groups.error_message
        with pytest.raises(sync.SyncError):
            sync.pull_resource(PEER, "dtk_wrong", "religions", Transport(app))
        text = page_text(province)
        assert (f"Lỗi gần nhất, lúc {local(groups.failed_at)}: Máy chủ trung ương gặp lỗi "
                "(HTTP 500); lần đồng bộ theo lịch tiếp theo sẽ tiếp tục từ chỗ dừng của lần "
                "này. Trung ương cho biết: Lỗi máy chủ") in text
        assert "Máy chủ trung ương từ chối mã truy cập (HTTP 401)" in text

        sync.pull_resource(PEER, token, "ethnic-groups", Transport(app), limit=10)
        groups = statuses()["ethnic-groups"]
        assert groups.succeeded_at is not None and not groups.failing
        assert groups.changed + groups.added + groups.unchanged == 44  # pages 2 to 6 of 54
        assert 'class="failed"' in browser(province, make_user(
            "admin", unit_code=None), locale="vi").get("/sync/").get_data(as_text=True)


def test_an_unreachable_centre_is_recorded_in_words(province):
    with province.app_context():
        with pytest.raises(sync.SyncError):
            sync.pull_resource("http://127.0.0.1:9", "dtk_x", "religions",
                               sync.HttpTransport(timeout=2))
        row = db.session.scalar(sa.select(SyncStatus))
        assert row.error_kind == "unreachable" and row.peer == "http://127.0.0.1:9"
        assert "Máy chủ trung ương không trả lời (mất kết nối hoặc quá thời gian chờ)." in (
            page_text(province))


def test_only_who_may_run_the_sync_sees_the_screen(client, login):
    commune = make_user("commune_officer")
    assert login(commune).get("/sync/").status_code == 403
    province_officer = make_user("province_officer")
    page = login(province_officer).get("/sync/")
    assert page.status_code == 200
    assert 'href="/sync/"' in page.get_data(as_text=True)  # linked from the navigation
    assert 'href="/sync/"' not in login(commune).get("/").get_data(as_text=True)


def test_the_commands_take_the_centre_and_the_token_from_the_configuration(runner, app):
    """What the systemd timer runs: no options, DANTOC_SYNC_PEER and DANTOC_SYNC_TOKEN."""
    result = runner.invoke(args=["sync", "pull", "--resource", "religions"])
    assert result.exit_code == 2 and "DANTOC_SYNC_PEER" in result.output
    app.config.update(SYNC_PEER="http://127.0.0.1:9/", SYNC_TOKEN="dtk_x", SYNC_TIMEOUT=2)
    result = runner.invoke(args=["sync", "pull", "--resource", "religions"])
    assert result.exit_code == 1 and "http://127.0.0.1:9/api/v1/religions" in result.output
    result = runner.invoke(args=["sync", "push"])  # no approved report: nothing to send
    assert result.exit_code == 0 and "reports: 0 sent" in result.output
    found = {(s.direction, s.resource, s.peer, s.error_kind, s.succeeded_at is not None)
             for s in db.session.scalars(sa.select(SyncStatus))}
    assert found == {("pull", "religions", "http://127.0.0.1:9", "unreachable", False),
                     ("push", "reports", "http://127.0.0.1:9", None, True)}
    # one pass of both: the push runs even though the pull stopped, and the exit says so
    result = runner.invoke(args=["sync", "run"])
    assert result.exit_code == 1
    assert "catalogue-versions: stopped" in result.output and "reports: 0 sent" in result.output

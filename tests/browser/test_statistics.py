"""A citizen on a 360 px phone opens the public statistics of a commune and sees "<5" where
the count is small, with no sideways scroll and no JavaScript needed."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests import forks
from tests.browser.conftest import (
    PHONE,
    ROOT,
    WatchedPage,
    _Database,
    _free_port,
    _gunicorn,
    _server_env,
)
from tests.browser.test_review_a11y import violations

pytestmark = pytest.mark.browser
#: Where to save screenshots of the pages to look at (none when unset).
SHOTS = os.environ.get("DANTOC_SCREENSHOTS")


@pytest.fixture(scope="module")
def stats_server(tmp_path_factory, demo_database):
    """gunicorn over a copy of the session's demo database plus
    :mod:`tests.browser.stats_seed`."""
    directory = tmp_path_factory.mktemp("stats")
    database = _Database(directory)
    port = _free_port()
    env = _server_env(database.create(demo_database), port)
    try:
        done = forks.run([sys.executable, "-m", "tests.browser.stats_seed"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"stats_seed failed:\n{done.stdout}\n{done.stderr}"
        seeded = json.loads(done.stdout.strip().splitlines()[-1])
        with _gunicorn(env, port, directory / "gunicorn.log") as url:
            yield url, seeded
    finally:
        database.drop()


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def citizen_phone(request, browser, stats_server):
    context = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True,
                                  is_mobile=True, device_scale_factor=2,
                                  java_script_enabled=request.param)
    context.set_default_timeout(15_000)
    yield WatchedPage(context, stats_server[0]), stats_server[1], request.param
    context.close()


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _shot(page, js: bool, name: str) -> None:
    if SHOTS and js:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_citizen_opens_a_commune_and_sees_small_counts_hidden(citizen_phone):
    phone, seeded, js = citizen_phone
    page = phone.page
    assert phone.goto("/thong-ke/").status == 200
    page.wait_for_selector("h1:has-text('Số liệu thống kê công khai')")
    _no_sideways_scroll(page)
    page.click(f"a[href='/thong-ke/{seeded['form']}/{seeded['period']}/']")
    page.wait_for_selector("h1:has-text('Quý 4/2026')")
    _no_sideways_scroll(page)
    _shot(page, js, "statistics-release-360.png")
    page.click("a:has-text('Phường Đoàn Kết')")
    page.wait_for_selector("h1:has-text('Phường Đoàn Kết')")
    _no_sideways_scroll(page)
    row = page.locator("tr", has=page.locator("th", has_text="Thái – Nữ"))
    assert row.locator("td").inner_text() == "<5"
    body = page.inner_text("main")
    assert "Quý 4/2026" in body and "duyệt ngày" in body
    assert "ethnic_group" not in body
    _shot(page, js, "statistics-commune-360.png")
    phone.assert_clean()


@pytest.fixture
def audited_phone(browser, stats_server):
    """A 360 px phone that lets axe-core's script in (the app's CSP rightly forbids it)."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True,
                                  is_mobile=True, device_scale_factor=2, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield WatchedPage(context, stats_server[0]), stats_server[1]
    context.close()


def test_public_pages_have_no_axe_finding_at_360_px(audited_phone):
    """The pages Lighthouse scores (docs/benchmarks.md) and their neighbours: no axe-core
    finding of any impact (target size included), no sideways scroll, no console error."""
    phone, seeded = audited_phone
    release = f"/thong-ke/{seeded['form']}/{seeded['period']}/"
    for path in ("/", "/van-ban", "/van-ban?q=quyet+dinh+414", "/van-ban/quyet-dinh-414-qd-ttg",
                 "/van-ban/nhom/chinh-sach-dan-toc", "/thong-ke/", release,
                 f"{release}xa/{seeded['commune']}"):
        assert phone.goto(path).status == 200, path
        assert violations(phone.page) == [], path
        _no_sideways_scroll(phone.page)
        if path == "/":
            assert "Số liệu chính" in phone.page.inner_text("main")
            _shot(phone.page, True, "home-360.png")
    phone.assert_clean()

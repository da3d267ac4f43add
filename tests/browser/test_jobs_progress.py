"""A large catalog import in a real browser: it becomes a background job whose page shows
its progress through htmx polling (no reload) until the result, at 360 px."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests import forks
from tests.browser.conftest import PHONE, ROOT, WatchedPage

pytestmark = pytest.mark.browser

ROWS = 1500


def units_csv() -> bytes:
    lines = ["code,name,unit_type,parent_code,valid_from,is_sample"]
    lines += [f"03388-W{i:05d},Tổ dân phố thử {i},Tổ dân phố,03388,2025-07-01,yes"
              for i in range(ROWS)]
    return "\n".join(lines).encode()


def test_a_large_import_runs_as_a_job_with_visible_progress(browser, live_server, tmp_path):
    from dantoc.demo.accounts import ACCOUNTS

    context = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True,
                                  is_mobile=True, device_scale_factor=2)
    context.set_default_timeout(15_000)
    person = WatchedPage(context, live_server.url)
    page = person.page
    worker = None
    try:
        username, password = ACCOUNTS["province_officer"][:2]
        person.sign_in(username, password)
        # Each page asks for /session/state in the background: let it answer before the next
        # navigation, which would abort it (a failed request in assert_clean, seen in CI).
        page.wait_for_load_state("networkidle")

        person.goto("/catalogs/import")
        page.wait_for_load_state("networkidle")
        page.select_option("select[name=kind]", "units")
        page.set_input_files("input[name=file]", files=[{
            "name": "units.csv", "mimeType": "text/csv", "buffer": units_csv()}])
        page.click("main form button[type=submit].primary")
        page.wait_for_url(lambda url: "/jobs/" in url)
        status = page.locator("#job-status")
        assert "Đang chờ bắt đầu" in status.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(tmp_path / "job-queued.png"))
        page.evaluate("window.__stillTheSamePage = true")
        job_url = page.url
        polls = []
        page.on("request", lambda r: polls.append(r.url) if r.url == job_url
                and r.headers.get("hx-request") == "true" else None)

        env = {**live_server.env, "DANTOC_REMINDERS_ENABLED": "0"}
        env.pop("GUNICORN_BIND", None)
        worker = forks.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "work",
                              "--name", "browser-test"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen, shot = set(), False
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and "Đã xong" not in status.inner_text():
            value = page.locator("#job-status progress").get_attribute("value")
            if value is not None:
                seen.add(int(value))
                if 0 < int(value) < 100 and not shot:
                    page.screenshot(path=str(tmp_path / "job-running.png"))
                    shot = True
            page.wait_for_timeout(300)
        text = status.inner_text()
        assert "Đã xong" in text, text
        assert f"{ROWS:,}".replace(",", ".") in text  # "Đã nhập: 1.500 mới, 0 cập nhật."
        assert page.locator("#job-status progress").get_attribute("value") == "100"
        # htmx fetched the status again and again while the job ran (how far the bar got
        # between two polls depends on the machine: intermediate values are in test_jobs)
        assert len(polls) >= 2, polls
        assert page.evaluate("window.__stillTheSamePage === true")  # polled, not reloaded
        page.screenshot(path=str(tmp_path / "job-done.png"))
        person.assert_clean()
        print("screenshots in", tmp_path, "progress values seen", sorted(seen))
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        context.close()

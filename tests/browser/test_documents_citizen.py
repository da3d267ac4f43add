"""Issue 12: a citizen on a 360 px phone opens the home page, searches "quyet dinh 414"
without diacritics, opens the decision and downloads its file (attached beforehand by a
province officer through the staff screen)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.documents_support import make_pdf

pytestmark = pytest.mark.browser

AGENCY = "Sở Dân tộc và Tôn giáo tỉnh Lai Châu"


def _shoot(page, name: str, tmp_path: Path) -> None:
    """Full-page screenshots, kept where DANTOC_SCREENSHOTS says (to look at them)."""
    folder = Path(os.environ.get("DANTOC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _attach_file(browser, live_server, tmp_path: Path) -> None:
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    username, password = live_server.sign_in_for("province_officer")
    page.goto(live_server.url + "/accounts/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit].primary")
    page.wait_for_url(lambda url: "/accounts/login" not in url)  # on to their landing page
    expect(page.locator(".htmx-request, .htmx-settling")).to_have_count(0)  # boosted landing
    page.goto(live_server.url + "/documents/")
    page.click("text=414/QĐ-TTg")
    page.wait_for_selector("h1:has-text('414/QĐ-TTg')")
    pdf = tmp_path / "qd-414.pdf"
    pdf.write_bytes(make_pdf("De an 414 - ban mau de thu"))
    page.set_input_files("input[type=file][name=file]", str(pdf))
    page.click("button:has-text('Đính kèm')")
    page.wait_for_selector("text=Đã đính kèm tệp.")
    _no_sideways_scroll(page)
    _shoot(page, "staff-edit", tmp_path)
    context.close()


def test_citizen_finds_and_downloads_decision_414(browser, live_server, phone, tmp_path):
    _attach_file(browser, live_server, tmp_path)
    page = phone.page

    phone.goto("/")
    assert page.inner_text("h1") == AGENCY
    assert page.locator("form.lang select[name=locale]").count() == 1
    _no_sideways_scroll(page)
    _shoot(page, "home", tmp_path)

    page.fill("input[name=q]", "quyet dinh 414")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**/van-ban?q=quyet+dinh+414")
    assert "1 văn bản" in page.inner_text("main")
    _no_sideways_scroll(page)
    _shoot(page, "search", tmp_path)

    page.click("text=Quyết định 414/QĐ-TTg")
    page.wait_for_url("**/van-ban/quyet-dinh-414-qd-ttg")
    assert page.inner_text("h1") == "Quyết định 414/QĐ-TTg"
    assert "Dữ liệu mẫu" in page.inner_text("main")
    _no_sideways_scroll(page)
    _shoot(page, "document", tmp_path)

    with page.expect_download() as waiting:
        page.click("a[download]")
    download = waiting.value
    assert download.suggested_filename == "qd-414.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")

    page.click("a.back")  # to the document's group
    _no_sideways_scroll(page)
    _shoot(page, "group", tmp_path)
    phone.assert_clean()


def test_public_pages_work_without_javascript(browser, live_server, tmp_path):
    context = browser.new_context(viewport=PHONE, locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.fill("input[name=q]", "de an 414")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**/van-ban?q=de+an+414")
    page.click("text=Quyết định 414/QĐ-TTg")
    assert page.inner_text("h1") == "Quyết định 414/QĐ-TTg"
    page.goto(live_server.url + "/van-ban")
    page.click("summary")  # the filters are folded away
    page.select_option("select[name=doc_type]", "nghi_quyet")
    page.click("form[role=search] button[type=submit]")
    assert "1670/NQ-UBTVQH15" in page.inner_text("main")
    page.select_option("form.lang select[name=locale]", "en")
    page.click("form.lang button[type=submit]")
    assert page.get_attribute("html", "lang") == "en"
    context.close()

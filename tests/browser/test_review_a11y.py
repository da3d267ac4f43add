"""Accessibility of the review and report pages at 360 px: axe-core finds nothing (of any
impact) and the page never scrolls sideways, in every state a reviewer meets them.

The pages are filled with the quarterly demo form (period 2026-Q4), on ``review_server``;
the journey test (tests/browser/test_review_journey.py) uses the yearly one there, so the two
modules do not meet. The data is made through the pages themselves: the village head's
entry form, the officer's return, approve and submit forms, the province officer's page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, ROOT, WatchedPage
from tests.browser.test_review_journey import assert_clean, sign_in_people, submit_entry

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FORM, PERIOD = "LC-DEMO-PT-QUY", "2026-Q4"
QUARTERLY = "Phiếu báo cáo nhanh hằng quý thôn, bản (mẫu)"
POOR = re.compile(r"^Số hộ nghèo\b")


@pytest.fixture
def audited_people(browser, review_server):
    """Phone contexts signed in as a demo role that let axe-core's script in (the app's CSP
    rightly forbids it); closed at the end."""
    opener = sign_in_people(browser, review_server.url, bypass_csp=True)
    open_as = next(opener)
    yield lambda role: open_as(*review_server.sign_in_for(role))
    opener.close()


def violations(page) -> list[str]:
    """Every axe-core finding on the page, whatever its impact (WCAG 2.2's target size,
    off by default, included)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations'], "
                           "rules: {'target-size': {enabled: true}}})")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]]


def check(person: WatchedPage, name: str) -> None:
    """No axe-core finding and no sideways scroll of the page at 360 px."""
    page = person.page
    expect(page.locator(".htmx-request, .htmx-settling")).to_have_count(0)  # dimmed meanwhile
    assert violations(page) == [], name
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"], name


def fill_quarterly(page, households: str, poor: str) -> None:
    page.wait_for_selector("form.entry")
    page.get_by_label("Tổng số hộ").first.fill(households)
    page.get_by_label(POOR).fill(poor)
    page.get_by_label("Số vụ việc").fill("0")


def review_page(officer: WatchedPage) -> None:
    """The quarterly report's review page, opened from the inbox (the inbox checked too)."""
    page = officer.page
    officer.goto("/review/")
    check(officer, "inbox of " + officer.page.locator("nav form button").inner_text())
    page.locator("#review-rows li", has_text=QUARTERLY).get_by_role("link").click()
    page.wait_for_url(re.compile(r"/review/[0-9a-f-]{36}$"))


def quarterly_completeness(page) -> None:
    """Switch the completeness page to the quarterly form (HTMX swaps the areas in)."""
    page.select_option("#completeness select[name=form]", label=QUARTERLY)
    expect(page.locator("#completeness section").first).to_contain_text("Quý 4/2026")
    expect(page.locator("#completeness .tag.status-approved").first).to_contain_text("1")


def test_review_and_report_pages_are_accessible_at_360_px(audited_people, review_server):
    head = audited_people("village_head")
    head.page.click(f"text={QUARTERLY}")
    fill_quarterly(head.page, "80", "12")
    submit_entry(head.page)

    officer = audited_people("commune_officer")
    page = officer.page
    review_page(officer)
    check(officer, "review page, comment boxes beside the values")
    page.get_by_label(POOR).fill("Kiểm tra lại số hộ nghèo.")
    page.fill("form[action$='/return'] textarea[name=reason]", "Số hộ nghèo chưa đúng.")
    page.locator("form[action$='/return'] button[type=submit]").click()
    expect(page.locator(".tag.status-returned")).to_have_count(1)
    check(officer, "review page, returned")

    head.goto("/entry/")
    check(head, "village head's home, returned with comments")
    head.page.locator("ul.due li", has_text=QUARTERLY).get_by_role("link").click()
    fill_quarterly(head.page, "80", "11")
    check(head, "entry form, returned with comments")
    submit_entry(head.page)

    review_page(officer)
    expect(page.locator("#changes")).to_have_count(1)
    check(officer, "review page, changes since version 1")
    page.click("form[action$='/approve'] button[type=submit]")
    expect(page.locator("#lock")).to_have_attribute("data-lock", "approved")
    check(officer, "review page, approved")

    officer.goto(f"/reports/{FORM}/{PERIOD}/{review_server.commune_id}")
    check(officer, "commune report before submitting")
    page.click("#submit-report button[type=submit]")  # no reasons for the missing villages
    expect(page.locator("#submit-report [aria-invalid=true]")).to_have_count(2)
    check(officer, "commune report, missing villages not named")
    for field in page.locator("#submit-report input[name^=missing_]").all():
        field.fill("Chưa có trưởng thôn.")
    page.click("#submit-report button[type=submit]")
    page.wait_for_url(re.compile(r"/reports/\d+$"))
    check(officer, "commune report, submitted")
    officer.goto("/reports/")
    check(officer, "reports list")
    officer.goto("/reports/completeness")
    check(officer, "completeness of the commune")
    quarterly_completeness(page)
    check(officer, "completeness of the commune, quarterly form (HTMX)")

    province = audited_people("province_officer")
    page = province.page
    province.goto("/reports/")
    check(province, "province's reports list")
    page.locator("#report-rows tbody tr", has_text=QUARTERLY).get_by_role("link").click()
    page.wait_for_url(re.compile(r"/reports/\d+$"))
    check(province, "commune report, to approve or return")
    page.click("#approve-report button[type=submit]")
    expect(page.locator("#reopen-report")).to_have_count(1)
    check(province, "commune report, approved")
    province.goto(f"/reports/{FORM}/{PERIOD}/{review_server.province_id}")
    check(province, "province total")
    review_page(province)  # approved village data, from the province's inbox
    expect(page.locator("#lock")).to_have_count(1)  # the province does not decide on it
    check(province, "review page seen from the province (locked)")
    province.goto("/reports/completeness")
    check(province, "completeness of the province")
    quarterly_completeness(page)
    check(province, "completeness of the province, quarterly form (HTMX)")

    for person in (head, province):
        assert_clean(person)
    assert_clean(officer, refused=(
        f"POST /reports/{FORM}/{PERIOD}/{review_server.commune_id}/submit: 422",))

"""The village head in Chromium at 360 × 640: accessibility of the entry pages, then the
whole journey (sign in, fill the demo questionnaire with its ethnic-group grid, meet a
cross-field error, fix it, submit, see the receipt, resend the same UUID).

The tests of this module share the live server's database and run in file order: adding a
grid row writes nothing, the accessibility test submits only the quarterly form, the journey
the yearly one.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dantoc.demo.accounts import ACCOUNTS
from dantoc.submissions.models import receipt_code
from tests.browser.conftest import PHONE, ROOT, WatchedPage

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
YEARLY = "Phiếu thông tin thôn, bản hằng năm (mẫu)"
QUARTERLY = "Phiếu báo cáo nhanh hằng quý thôn, bản (mẫu)"
CROSS_FIELD = "Số hộ nghèo cộng số hộ cận nghèo không được lớn hơn tổng số hộ."


@pytest.fixture
def audited(browser, live_server):
    """A phone context that lets axe-core's script in (the app's CSP rightly forbids it)."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True,
                                  is_mobile=True, device_scale_factor=2, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield WatchedPage(context, live_server.url)
    context.close()


def sign_in(phone: WatchedPage) -> None:
    """Sign in as the village head and wait until htmx has finished swapping the landing
    page in (the boosted form changes the URL before that): a click or a scroll made
    meanwhile would be undone by the swap (seen under load)."""
    phone.sign_in(*ACCOUNTS["village_head"][:2])
    assert phone.page.url == phone.base_url + "/entry/"


def serious_violations(phone: WatchedPage) -> list[str]:
    """axe-core's serious and critical findings on the current page."""
    phone.page.add_script_tag(path=str(AXE))
    result = phone.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


# .enter-default is the 1 px Enter-key default button: pressed by the keyboard, never tapped.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
  'main button, main select, main input:not([type=hidden]):not([type=radio]), main .radios label,'
  + ' main ul.due a, main a.back, main a.button'))
  .filter(e => e.offsetParent !== null && !e.classList.contains('enter-default'))
  .map(e => [e.name || e.textContent.trim().slice(0, 30), e.getBoundingClientRect().height])
  .filter(([, h]) => h < 44)"""
UNLABELLED = """() => Array.from(document.querySelectorAll(
  'main input:not([type=hidden]), main select, main textarea'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-labelledby'))
  .map(e => e.name)"""


def check_page(phone: WatchedPage, name: str) -> None:
    """No serious axe finding, every field labelled, targets ≥ 44 px, no sideways scroll."""
    page = phone.page
    assert serious_violations(phone) == [], name
    assert page.evaluate(UNLABELLED) == [], name
    assert page.evaluate(SMALL_TARGETS) == [], name
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


def settled(page) -> None:
    """Wait until htmx has settled a swap: it copies attributes back for 20 ms after it, which
    would undo anything typed in that window (no person types that fast; a test does)."""
    expect(page.locator(".htmx-settling")).to_have_count(0)


#: What htmx logs when a newer request of the form (a newer field check, or the submit)
#: replaces a field check still in flight, on purpose (``hx-sync="this:replace"`` on the
#: form): the submit must not wait for it, and a stale answer must not be shown.
ABORTED_CHECK = {"htmx:sendAbort, [object HTMLDivElement]",
                 "htmx:afterRequest, [object HTMLDivElement]"}


def assert_clean(phone: WatchedPage) -> None:
    """No console error and no failed request, apart from field checks aborted on purpose
    (htmx logs each; the browser may report the abort after the submit has left the page)."""
    aborted = [f for f in phone.failed_requests + phone.abandoned
               if "/check" in f and "ERR_ABORTED" in f]
    assert [f for f in phone.failed_requests if f not in aborted] == []
    assert [e for e in phone.console_errors if not (aborted and e in ABORTED_CHECK)] == []


def add_group(page, code: str) -> None:
    page.select_option("select[name^=add_]", code)
    page.click("button[value^='add:']")
    page.wait_for_selector(f"input[name$='_{code}_1']")
    settled(page)

def test_adding_an_ethnic_group_keeps_the_place(phone):
    """Issue 16: "Add" puts the group's row into its grid where the person is (the page is
    not reloaded nor scrolled to the top) and moves the focus to the row's first cell."""
    sign_in(phone)
    page = phone.page
    page.click(f"text={YEARLY}")
    page.wait_for_selector("form.entry")
    # The boosted swap scrolls to the top when it ends: scroll only after it.
    expect(page.locator(".htmx-request, .htmx-settling")).to_have_count(0)
    add = page.locator("button[value^='add:']").first
    add.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")
    before = page.evaluate("scrollY")
    assert before >= 150, before  # below the top of the page
    page.locator("select[name^=add_]").first.select_option("03")
    add.click()
    first_cell = page.locator("input[name$='_03_0']")
    expect(first_cell).to_be_focused()
    after = page.evaluate("scrollY")
    assert abs(after - before) < 100, (before, after)  # the place is kept, not the top
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    # The group's choice starts a field check that the newer request may cut short.
    assert [e for e in phone.console_errors if e not in ABORTED_CHECK] == []
    assert [f for f in phone.failed_requests if "/check" not in f] == []


def test_entry_pages_are_accessible_and_usable_zoomed(audited):
    page = audited.page
    sign_in(audited)
    check_page(audited, "home")
    page.click(f"text={YEARLY}")
    page.wait_for_selector("form.entry")
    add_group(page, "03")  # the grid is part of what is checked
    check_page(audited, "form")
    page.set_viewport_size({"width": PHONE["width"] // 2, "height": PHONE["height"] // 2})
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] // 2
    assert page.locator("button[value=submit]").is_visible()  # usable at 200 % zoom
    page.set_viewport_size(PHONE)
    audited.goto("/entry/")
    page.click(f"text={QUARTERLY}")
    page.wait_for_selector("form.entry")
    for label, value in (("Tổng số hộ", "80"), ("Số hộ nghèo", "12"),
                         ("Số vụ việc", "0")):
        page.get_by_label(label).first.fill(value)
    page.click("button[value=submit]")
    page.wait_for_url("**/entry/receipt/**")
    check_page(audited, "receipt")
    assert_clean(audited)


def _server_rows(live_server) -> int | None:
    """Submissions in the live server's SQLite file (None on PostgreSQL)."""
    path = Path(live_server.log).parent / "dantoc.sqlite3"
    if not path.exists():
        return None
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM submissions").fetchone()[0]


FORM_DATA = """() => {
  const data = new FormData(document.querySelector('form.entry'));
  data.append('action', 'submit');
  return Object.fromEntries(data.entries());
}"""


def test_village_head_fills_and_submits_the_demo_questionnaire(phone, live_server):
    page = phone.page
    sign_in(phone)
    page.click(f"text={YEARLY}")
    page.wait_for_selector("form.entry")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("Tổng số hộ").fill("120")
    add_group(page, "03")
    add_group(page, "08")
    assert page.get_by_label("Tổng số hộ").input_value() == "120"  # kept
    for name, value in (("_03_0", "231"), ("_03_1", "240"), ("_08_0", "57"), ("_08_1", "60")):
        page.fill(f"input[name$='{name}']", value)
    page.get_by_label("Số hộ nghèo", exact=False).first.fill("50")
    near_poor = page.get_by_label("Số hộ cận nghèo")
    near_poor.fill("80")
    near_poor.blur()  # HTMX checks on change: the message appears without a submit
    page.wait_for_selector(f".msgs:has-text('{CROSS_FIELD}')")
    page.locator("fieldset", has_text="cứng hóa").locator("input[value='1']").check()
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(
            page.get_attribute("form.entry", "action"))) as answer:
        page.click("button[value=submit]")
    assert answer.value.status == 200  # shown again with the messages, not received
    settled(page)
    assert page.locator(".error-box[role=alert]").count() >= 1
    assert page.locator(f".msgs:has-text('{CROSS_FIELD}')").count() >= 2  # beside its fields
    assert "/entry/receipt/" not in page.url
    assert page.locator("input[name$='_08_1']").input_value() == "60"  # nothing lost
    near_poor = page.get_by_label("Số hộ cận nghèo")
    near_poor.fill("10")
    near_poor.blur()
    expect(page.locator(f".msgs:has-text('{CROSS_FIELD}')")).to_have_count(0)
    data = page.evaluate(FORM_DATA)
    action = page.get_attribute("form.entry", "action")
    page.click("button[value=submit]")
    page.wait_for_url("**/entry/receipt/**")
    assert receipt_code(uuid.UUID(data["uuid"])) in page.inner_text("main")  # read aloud
    rows = _server_rows(live_server)
    # The same submission again, as a phone's outbox would send it after a lost answer.
    replay = page.request.post(phone.base_url + action, form=data,
                               headers={"Accept": "application/json"})
    assert replay.status == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["uuid"] == data["uuid"] and replay.json()["version"] == 1
    assert _server_rows(live_server) == rows
    assert_clean(phone)


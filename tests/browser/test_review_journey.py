"""Issue #5 "Done when", in Chromium at 360 × 640, on a server of its own (``review_server``):

the village head submits the yearly demo form; the commune officer returns it with a reason
and a comment on one field; the village head reads both beside the field, fixes the value and
resubmits; the officer sees the change (old and new value) and approves; a second village
head's report is approved too; the officer submits the commune report naming the third
village as missing; the province officer approves it; the province total equals the sum of
the approved village values, read from the page and from the database.

Three browser contexts (village heads, commune officer, province officer) act in turn, each
through the real pages: the entry form's own Submit (with the offline outbox in front of it),
the review page's forms, the report page's forms.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from dantoc.submissions.models import receipt_code
from tests.browser.conftest import PHONE, REVIEW_SECOND_HEAD, WatchedPage

pytestmark = pytest.mark.browser

FORM, PERIOD = "LC-DEMO-PT-NAM", "2026"
YEARLY = "Phiếu thông tin thôn, bản hằng năm (mẫu)"
HOUSEHOLDS, POOR, NEAR_POOR = "Tổng số hộ", "Số hộ nghèo", "Số hộ cận nghèo"
POPULATION = "Số nhân khẩu (theo dân tộc và giới tính)"
REASON = "Số hộ nghèo chưa khớp danh sách hộ nghèo của xã."
COMMENT = "Danh sách năm 2026 của xã có 45 hộ nghèo, đề nghị kiểm tra lại."
#: The demo's ethnic groups typed below, as the pages name them, and the sexes.
GROUPS = {"03": "Thái", "08": "Mông / H'Mông"}
SEXES = {"male": "Nam", "female": "Nữ"}
#: The poor-households field's label (with its unit and required mark on the entry form).
POOR_LABEL = re.compile(rf"^{POOR}\b")
MISSING = "Thôn chưa có trưởng thôn, xã đang kiện toàn."

#: What each village head types: households, poor, near-poor, population grid (group code →
#: (male, female)). The first village's poor households are wrong at first (50), fixed to 45.
FIRST = {"households": 120, "poor": 50, "near_poor": 10, "population": {"03": (231, 240)}}
FIXED_POOR = 45
SECOND = {"households": 85, "poor": 20, "near_poor": 5,
          "population": {"03": (150, 160), "08": (57, 60)}}

#: htmx logs these when a field check is replaced on purpose by a newer request of the form
#: (``hx-sync="this:replace"``), sent or not yet.
ABORTED_CHECK = {"htmx:sendAbort, [object HTMLDivElement]",
                 "htmx:afterRequest, [object HTMLDivElement]"}


def sign_in_people(browser, url: str, **options):
    """A generator of phone-sized contexts signed in as someone (``open_as(username,
    password)``); the contexts are closed when it is closed. ``options`` go to the context."""
    opened: list[WatchedPage] = []

    def open_as(username: str, password: str) -> WatchedPage:
        context = browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True,
                                      is_mobile=True, device_scale_factor=2, **options)
        context.set_default_timeout(15_000)
        person = WatchedPage(context, url)
        opened.append(person)
        person.sign_in(username, password)
        return person

    try:
        yield open_as
    finally:
        for person in opened:
            person.context.close()


@pytest.fixture
def people(browser, review_server):
    """Opens phone-sized contexts signed in as someone; closes them all at the end."""
    yield from sign_in_people(browser, review_server.url)


def demo(server, role: str) -> tuple[str, str]:
    return server.sign_in_for(role)


def settled(page) -> None:
    """Until htmx has settled a swap (it restores attributes for 20 ms after one)."""
    expect(page.locator(".htmx-settling")).to_have_count(0)


def assert_clean(person: WatchedPage, refused: tuple[str, ...] = ()) -> None:
    """No console error, no failed request but the ``refused`` ones ("POST /path: 422") the
    test made on purpose, and requests dropped on purpose: field checks replaced by a newer
    request, the outbox's session check cut short by leaving the page."""
    aborted = [f for f in person.failed_requests if "ERR_ABORTED" in f
               and ("/check" in f or "GET " + person.base_url + "/session/state" in f)]
    failed = [f.replace(person.base_url, "") for f in person.failed_requests
              if f not in aborted]
    assert failed == list(refused)
    expected = set()  # what Chromium and htmx log about each refusal
    for request in refused:
        path, status = request.split(" ")[1].rstrip(":"), request.rsplit(" ", 1)[1]
        expected |= {f"status of {status} ", f"Error Code {status} from {path},"}
    assert [e for e in person.console_errors if e not in ABORTED_CHECK
            and not any(x in e for x in expected)] == []


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]


def fill_yearly(page, values: dict) -> None:
    """Fill the yearly questionnaire on its page (the rest is optional)."""
    page.wait_for_selector("form.entry")
    page.get_by_label(HOUSEHOLDS).fill(str(values["households"]))
    for code, (male, female) in values["population"].items():
        page.select_option("select[name^=add_]", code)
        page.click("button[value^='add:']")
        page.wait_for_selector(f"input[name$='_{code}_1']")
        settled(page)
        page.fill(f"input[name$='_{code}_0']", str(male))
        page.fill(f"input[name$='_{code}_1']", str(female))
    page.get_by_label(POOR_LABEL).fill(str(values["poor"]))
    page.get_by_label(NEAR_POOR).fill(str(values["near_poor"]))


def submit_entry(page) -> str:
    """Press the form's Submit (the outbox keeps, sends, then shows the receipt); the UUID."""
    key = page.input_value("form.entry input[name=uuid]")
    page.click("form.entry button[value=submit]")
    page.wait_for_url(f"**/entry/receipt/{key}")
    assert receipt_code(uuid.UUID(key)) in page.inner_text("main")  # the code read aloud
    return key


def open_in_inbox(officer: WatchedPage, village: str):
    """From the inbox, the review page of the village's yearly report."""
    page = officer.page
    officer.goto("/review/")
    no_sideways_scroll(page)
    row = page.locator("#review-rows li", has_text=village).filter(has_text=YEARLY)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=village).click()
    page.wait_for_url(re.compile(r"/review/[0-9a-f-]{36}$"))
    no_sideways_scroll(page)
    return page


def approve(page) -> None:
    page.click("form[action$='/approve'] button[type=submit]")
    expect(page.locator("#lock")).to_have_attribute("data-lock", "approved")
    expect(page.locator(".tag.status-approved")).to_have_count(1)


def breakdown(key: str) -> str:
    """``ethnic_group=03;sex=female`` → "Thái – Nữ", as the report page writes it."""
    parts = dict(p.split("=") for p in key.split(";"))
    return f"{GROUPS[parts['ethnic_group']]} – {SEXES[parts['sex']]}"


#: A stored code where a label belongs: a disaggregation key part, or a period code.
CODE = re.compile(r"\w=\w|;\s*\w+=|\b\d{4}-[QH]?\d+\b")


def shows_labels(page, *labels: str) -> None:
    """The page shows ``labels`` and no stored code ("Thái – Nữ", never ethnic_group=03)."""
    text = page.inner_text("main")
    assert not CODE.search(text), CODE.search(text)
    for label in labels:
        assert label in text, label


def number(text: str) -> Decimal:
    """A number as the Vietnamese pages write it (1.234,5)."""
    return Decimal(text.strip().replace(".", "").replace("\u00a0", "").replace(",", "."))


#: The rows of the report page's only four-column table (indicator, breakdown, value,
#: villages): the figures.
FIGURE_ROWS = """() => {
  const tables = Array.from(document.querySelectorAll('main table'))
    .filter(t => t.tHead && t.tHead.rows[0].cells.length === 4);
  if (tables.length !== 1) return null;
  return Array.from(tables[0].tBodies[0].rows,
                    r => Array.from(r.cells, c => c.textContent.trim()));
}"""


def figures(page) -> dict[tuple[str, str], tuple[Decimal, int]]:
    """The figures table of a report page: (indicator, breakdown) → (value, villages)."""
    rows = page.evaluate(FIGURE_ROWS)
    assert rows, "no figures table"
    return {(name, key): (number(value), int(villages))
            for name, key, value, villages in rows if value[:1].isdigit()}


def state_of(server, unit_id: int) -> tuple:
    """(state, current version, reason) of the village's yearly report, from the database."""
    return server.rows(
        "SELECT s.state, s.current_version, s.state_reason FROM submissions s"
        " JOIN forms f ON f.id = s.form_id JOIN periods p ON p.id = s.period_id"
        " WHERE s.unit_id = :u AND f.code = :form AND p.code = :period",
        u=unit_id, form=FORM, period=PERIOD)[0]


def approved_sums(server) -> dict[tuple[str, str], tuple[Decimal, int]]:
    """From the database: indicator code and disaggregation → (sum, villages) over the
    current versions of the approved village reports of the form and period."""
    rows = server.rows(
        "SELECT i.code, v.disaggregation, SUM(v.value_numeric), COUNT(*)"
        " FROM submission_values v JOIN submission_versions sv ON sv.id = v.version_id"
        " JOIN submissions s ON s.id = sv.submission_id AND sv.number = s.current_version"
        " JOIN forms f ON f.id = s.form_id JOIN periods p ON p.id = s.period_id"
        " JOIN indicators i ON i.id = v.indicator_id"
        " WHERE s.state = 'approved' AND f.code = :form AND p.code = :period"
        " AND v.value_numeric IS NOT NULL GROUP BY i.code, v.disaggregation",
        form=FORM, period=PERIOD)
    return {(code, key): (Decimal(total), count) for code, key, total, count in rows}


def test_return_fix_approve_and_roll_up_to_the_province(people, review_server):
    server = review_server
    (first_id, first_village), (second_id, second_village), (third_id, third_village) = \
        server.villages

    # 1. The village head submits the yearly form.
    head = people(*demo(server, "village_head"))
    head.page.click(f"text={YEARLY}")
    fill_yearly(head.page, FIRST)
    key = submit_entry(head.page)

    # 2. The commune officer opens it from the inbox and returns it: reason + field comment.
    officer = people(*demo(server, "commune_officer"))
    page = open_in_inbox(officer, first_village)
    assert key in page.url
    comment = page.get_by_label(POOR_LABEL)  # the comment box beside the value
    expect(page.locator("ol.values li", has=comment)).to_contain_text(str(FIRST["poor"]))
    comment.fill(COMMENT)
    giving_back = page.locator("form[action$='/return']")
    giving_back.locator("textarea[name=reason]").fill(REASON)
    giving_back.locator("button[type=submit]").click()
    expect(page.locator(".tag.status-returned")).to_have_count(1)
    expect(page.locator("main")).to_contain_text(REASON)
    assert state_of(server, first_id) == ("returned", 1, REASON)
    assert server.rows("SELECT c.version_number, c.text FROM field_comments c"
                       " JOIN submissions s ON s.id = c.submission_id"
                       " JOIN forms f ON f.id = s.form_id WHERE s.unit_id = :u AND f.code = :f",
                       u=first_id, f=FORM) == [(1, COMMENT)]

    # 3. The village head sees the reason and the comment beside the field, fixes, resubmits.
    page = head.page
    head.goto("/entry/")
    due = page.locator("ul.due li", has_text=YEARLY)
    expect(due).to_contain_text(REASON)
    expect(due).to_contain_text(COMMENT)
    due.get_by_role("link", name=YEARLY).click()
    page.wait_for_selector("form.entry")
    expect(page.locator("main .error-box[role=alert]").first).to_contain_text(REASON)
    poor = page.get_by_label(POOR_LABEL)
    assert poor.input_value() == str(FIRST["poor"])  # the returned version, to correct
    remark_ids = poor.get_attribute("aria-describedby").split()
    remarks = [page.locator(f"[id='{i}']") for i in remark_ids]
    assert any(COMMENT in r.inner_text() for r in remarks)  # announced with the field
    field = page.locator(".field", has=poor)
    expect(field.locator(".remark")).to_contain_text(COMMENT)  # and shown beside it
    no_sideways_scroll(page)
    poor.fill(str(FIXED_POOR))
    assert submit_entry(page) == key
    assert state_of(server, first_id)[:2] == ("submitted", 2)

    # 4. The officer sees the change, old and new value, and approves.
    page = open_in_inbox(officer, first_village)
    shows_labels(page, "Thái – Nữ", YEARLY)
    changes = page.locator("#changes tbody tr")
    expect(changes).to_have_count(1)
    cells = changes.first.locator("td").all_inner_texts()
    assert [c.strip() for c in cells] == [POOR, str(FIRST["poor"]), str(FIXED_POOR)]
    expect(page.locator("#changes")).to_contain_text(COMMENT)  # what was asked for
    approve(page)
    assert state_of(server, first_id)[:2] == ("approved", 2)

    # 5. A second village's head submits; the officer approves it too.
    second = people(*REVIEW_SECOND_HEAD[:2])
    second.page.click(f"text={YEARLY}")
    fill_yearly(second.page, SECOND)
    submit_entry(second.page)
    approve(open_in_inbox(officer, second_village))
    assert state_of(server, second_id)[:2] == ("approved", 1)

    # 6. The commune report: the third village (no village head) is named as missing.
    page = officer.page
    officer.goto(f"/reports/{FORM}/{PERIOD}/{server.commune_id}")
    no_sideways_scroll(page)
    submit = page.locator("#submit-report")
    expect(submit.locator("input[name^=missing_]")).to_have_count(1)
    submit.locator("button[type=submit]").click()  # no reason: refused, nothing written
    expect(page.locator(f"#missing_{third_id}[aria-invalid=true]")).to_have_count(1)
    assert server.rows("SELECT count(*) FROM unit_reports r JOIN forms f ON f.id = r.form_id"
                       " WHERE f.code = :form AND r.state <> 'open'", form=FORM) == [(0,)]
    page.fill(f"#missing_{third_id}", MISSING)
    page.click("#submit-report button[type=submit]")
    page.wait_for_url(re.compile(r"/reports/\d+$"))
    report_url = page.url
    expect(page.locator("main li", has_text=MISSING)).to_contain_text(third_village)
    shows_labels(page, "Thái – Nữ", "Mông / H'Mông – Nam")
    commune_figures = figures(page)

    # 7. The province officer approves the commune report, from the list of reports.
    province = people(*demo(server, "province_officer"))
    page = province.page
    province.goto("/reports/")
    no_sideways_scroll(page)
    shows_labels(page, YEARLY)
    row = page.locator("#report-rows tbody tr", has_text=YEARLY).filter(has_text="Đoàn Kết")
    row.get_by_role("link").click()
    page.wait_for_url(report_url)
    status = page.locator("main > p > .tag").first
    expect(status).to_have_class(re.compile(r"\bstatus-submitted\b"))
    page.click("#approve-report button[type=submit]")
    expect(page.locator("#approve-report")).to_have_count(0)
    expect(status).to_have_class(re.compile(r"\bstatus-approved\b"))
    [(state, note)] = server.rows("SELECT r.state, r.missing_note FROM unit_reports r"
                                  " JOIN forms f ON f.id = r.form_id"
                                  " WHERE r.unit_id = :c AND f.code = :form",
                                  c=server.commune_id, form=FORM)
    note = json.loads(note) if isinstance(note, str) else note
    assert (state, [(m["unit_id"], m["reason"]) for m in note]) == (
        "approved", [(third_id, MISSING)])

    # 8. The province total: the sum of what the village heads typed, and of the database.
    province.goto(f"/reports/{FORM}/{PERIOD}/{server.province_id}")
    no_sideways_scroll(page)
    shows_labels(page, "Thái – Nữ", HOUSEHOLDS)
    total = figures(page)
    typed_sum = {HOUSEHOLDS: FIRST["households"] + SECOND["households"],
                 POOR: FIXED_POOR + SECOND["poor"],
                 NEAR_POOR: FIRST["near_poor"] + SECOND["near_poor"]}
    for name, expected in typed_sum.items():
        assert total[(name, "")] == (Decimal(expected), 2), name
    population = {k: v for (name, k), v in total.items() if name == POPULATION}
    for group, name in GROUPS.items():  # each group's cells add up what both villages typed
        typed = sum(sum(v["population"].get(group, ())) for v in (FIRST, SECOND))
        assert sum(v for k, (v, _n) in population.items() if k.startswith(name)) == typed, group
    assert sorted(n for _v, n in population.values()) == [1, 1, 2, 2]  # 03 in both, 08 in one
    in_database = approved_sums(server)
    codes = {HOUSEHOLDS: "households", POOR: "poor_households",
             NEAR_POOR: "near_poor_households"}
    for name, code in codes.items():
        assert in_database[(code, "")] == total[(name, "")], name
    assert {breakdown(k): v for (code, k), v in in_database.items()
            if code == "population"} == population  # shown in words, never as the key
    assert total == commune_figures  # the province counts exactly the approved commune

    for person in (head, second, province):
        assert_clean(person)
    assert_clean(officer, refused=(f"POST /reports/{FORM}/{PERIOD}/{server.commune_id}/submit:"
                                   " 422",))

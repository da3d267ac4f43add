"""The province's outputs in Chromium, at 360 px and at 1280 px (issue 11, "Done when"):
a commune officer approves the last village and submits the commune report, the province
officer approves it, opens the province dashboard and sees the new total, runs a lookup
through its form, and downloads the official biểu, which openpyxl reads: the national
heading, the units below as rows, columns labelled in words ("… – Thái – Nữ", never a
disaggregation key), and totals equal to the report page.

Each width works on a commune of its own (:mod:`tests.browser.outputs_seed`), so the two
runs share one server and each sees its own approval move the province's figures.
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from tests import forks
from tests.browser.conftest import (
    ROOT,
    WatchedPage,
    _Database,
    _free_port,
    _gunicorn,
    _server_env,
    wait_until,
)
from tests.browser.test_review_journey import assert_clean

pytestmark = pytest.mark.browser

WIDTHS = {"360": ("03388", {"width": 360, "height": 640}),
          "1280": ("03637", {"width": 1280, "height": 800})}
HOUSEHOLDS, POPULATION = "Tổng số hộ", "Số nhân khẩu"


@pytest.fixture(scope="module")
def outputs_server(tmp_path_factory, demo_database):
    """gunicorn over a copy of the demo database plus :mod:`tests.browser.outputs_seed`."""
    directory = tmp_path_factory.mktemp("outputs")
    database = _Database(directory)
    port = _free_port()
    env = _server_env(database.create(demo_database), port)
    try:
        done = forks.run([sys.executable, "-m", "tests.browser.outputs_seed"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"outputs_seed failed:\n{done.stdout}\n{done.stderr}"
        seeded = json.loads(done.stdout.strip().splitlines()[-1])
        with _gunicorn(env, port, directory / "gunicorn.log") as url:
            yield url, seeded, demo_database.sign_ins
    finally:
        database.drop()


def _number(text: str) -> Decimal:
    """A figure as the Vietnamese pages write it (1.234,5) → Decimal."""
    return Decimal(text.strip().replace(".", "").replace(",", "."))


def _open_as(browser, url: str, viewport: dict, username: str, password: str) -> WatchedPage:
    context = browser.new_context(viewport=viewport, locale="vi-VN",
                                  is_mobile=viewport["width"] < 600,
                                  has_touch=viewport["width"] < 600, accept_downloads=True)
    context.set_default_timeout(15_000)
    person = WatchedPage(context, url)
    person.sign_in(username, password)
    return person


def _dashboard_total(person: WatchedPage, name: str) -> Decimal:
    """The province dashboard's 2026 figure of the key indicator ``name`` (its table)."""
    person.goto("/lookup/dashboard")
    figure = person.page.locator("figure.chart", has=person.page.locator(
        "figcaption", has_text=re.compile("^" + name)))
    cell = figure.locator("tbody tr", has_text="Năm 2026").locator("td")
    text = cell.inner_text()
    return Decimal(0) if text.strip() == "—" else _number(text)


def _report_figure(page, name: str, breakdown: str = "") -> Decimal:
    """A figure of the report page's table (indicator, breakdown in words)."""
    row = page.locator("tr", has=page.locator("td", has_text=re.compile("^" + name)))
    if breakdown:
        row = row.filter(has=page.locator("td", has_text=breakdown))
    return _number(row.first.locator("td.num").inner_text())


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width


@pytest.mark.parametrize("width", list(WIDTHS))
def test_approval_shows_on_the_dashboard_lookup_and_biểu(browser, outputs_server, width,
                                                          tmp_path):
    url, seeded, sign_ins = outputs_server
    code, viewport = WIDTHS[width]
    commune = seeded["communes"][code]
    (households_a, thai_a, _kinh_a, _poor_a), (households_b, thai_b, _kinh_b, _poor_b) = (
        commune["approved"], commune["waiting"])
    from dantoc.demo.accounts import ACCOUNTS

    boss_sign_in = ACCOUNTS["province_officer"][:2]
    assert boss_sign_in in sign_ins
    boss = _open_as(browser, url, viewport, *boss_sign_in)
    before = _dashboard_total(boss, HOUSEHOLDS)

    # The commune officer approves the submitted village and submits the commune report.
    officer = _open_as(browser, url, viewport, commune["username"], commune["password"])
    page = officer.page
    officer.goto(f"/review/{commune['submitted']}")
    page.click("form[action$='/approve'] button[type=submit]")
    expect(page.locator("#lock")).to_have_attribute("data-lock", "approved")
    officer.goto(f"/reports/{seeded['form']}/{seeded['period']}/{commune['id']}")
    for field in page.locator("#submit-report input[name^=missing_]").all():
        field.fill("Chưa báo cáo (thử).")
    page.click("#submit-report button[type=submit]")
    page.wait_for_url(re.compile(r"/reports/\d+$"))
    report_path = page.url.removeprefix(url)

    # The province officer approves it: the report page's figures are both villages'.
    page = boss.page
    boss.goto(report_path)
    page.click("#approve-report button[type=submit]")
    expect(page.locator("#reopen-report")).to_have_count(1)
    _no_sideways_scroll(page, viewport["width"])
    households = _report_figure(page, HOUSEHOLDS)
    thai_women = _report_figure(page, POPULATION, "Thái")
    assert households == households_a + households_b
    assert thai_women == thai_a + thai_b

    # The dashboard shows the new total at once.
    after = _dashboard_total(boss, HOUSEHOLDS)
    assert after - before == households_b  # the village approved above, nothing else
    _no_sideways_scroll(page, viewport["width"])

    # A lookup through its form: households and population by ethnic group and sex, 2026,
    # the whole province by commune; the commune's row equals the report.
    boss.goto("/lookup/")
    page.get_by_label(HOUSEHOLDS, exact=True).check()
    page.get_by_label(re.compile("^" + POPULATION)).check()
    for select in ("period_from", "period_to"):
        page.select_option(f"select[name={select}]", label="Năm 2026")
    page.select_option("select[name=unit]", value="0")
    page.get_by_label("Dân tộc", exact=True).check()
    page.get_by_label("Giới tính", exact=True).check()
    page.get_by_role("button", name="Xem bảng").click()
    table = page.locator("#lookup-table table")
    expect(table).to_be_visible()
    headers = table.locator("thead th").all_inner_texts()
    thai = next(i for i, h in enumerate(headers) if "Thái – Nữ" in h)
    first = next(i for i, h in enumerate(headers) if h.startswith(HOUSEHOLDS))
    row = table.locator("tbody tr", has_text=commune["name"]).filter(has_text="Năm 2026")
    cells = row.locator("th, td").all_inner_texts()
    assert _number(cells[first]) == households
    assert _number(cells[thai]) == thai_women
    totals = table.locator("tfoot tr").locator("th, td").all_inner_texts()
    assert _number(totals[first]) == after
    assert not any("ethnic_group=" in h for h in headers)
    if viewport["width"] < 600:
        page.screenshot(path=str(tmp_path / "lookup-360.png"), full_page=True)

    # The official biểu of the approved report, read back with openpyxl.
    boss.goto(report_path)
    with page.expect_download() as download:
        page.click("#bieu-links a[href$='bieu.xlsx']")
    path = tmp_path / "bieu.xlsx"
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    texts = [str(c.value) for r in sheet.iter_rows() for c in r if c.value is not None]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts
    assert "Độc lập - Tự do - Hạnh phúc" in texts
    assert any(t.startswith("Biểu số: ") and seeded["form"] in t for t in texts)
    assert any(t == f"Đơn vị báo cáo: {commune['name']}" for t in texts)
    head = next(r for r in sheet.iter_rows() if r[1].value == "Đơn vị")
    labels = [c.value for c in head]
    assert not any("ethnic_group=" in str(label) for label in labels)
    col_households = next(i for i, label in enumerate(labels)
                          if str(label).startswith(HOUSEHOLDS))
    col_thai = next(i for i, label in enumerate(labels)
                    if str(label).startswith(POPULATION) and str(label).endswith("Thái – Nữ"))
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=head[0].row + 2)
            if r[1].value is not None}
    for village, (count, thai_count) in zip(commune["villages"][:2],
                                            ((households_a, thai_a), (households_b, thai_b)),
                                            strict=True):
        assert rows[village][col_households].value == count
        assert rows[village][col_thai].value == thai_count
    assert commune["villages"][2] in rows  # the village that never reported: a row, empty
    assert rows["Tổng"][col_households].value == households  # equal to the screen
    assert rows["Tổng"][col_thai].value == thai_women

    assert_clean(officer)
    assert_clean(boss)
    officer.context.close()
    boss.context.close()


LOADED = "(sheet) => [...document.styleSheets].some(s => (s.href || '').includes(sheet))"


def _sheet_rules(page, sheet: str) -> int:
    """How many CSS rules of the stylesheet whose address ends with ``sheet`` the page has
    loaded (0 when it is not linked or not loaded)."""
    return page.evaluate("""(sheet) => {
        const found = [...document.styleSheets]
            .find(s => s.href && s.href.split('?')[0].endsWith(sheet));
        return found ? found.cssRules.length : 0;
    }""", sheet)


def test_boosted_navigation_keeps_each_pages_stylesheets(browser, outputs_server):
    """A boosted navigation swaps the body and keeps the old head: the officers' sheet after
    a sign-in and the lookup's sheet after a click on the menu must still arrive."""
    url, _seeded, _sign_ins = outputs_server
    from dantoc.demo.accounts import ACCOUNTS

    boss = _open_as(browser, url, WIDTHS["360"][1], *ACCOUNTS["province_officer"][:2])
    page = boss.page
    expect(page.locator("link[href*='officer.css']")).to_have_count(1)
    wait_until(page, LOADED, "officer.css")
    assert _sheet_rules(page, "officer.css") > 0

    page.get_by_role("link", name="Tra cứu số liệu").first.click()
    page.wait_for_url(re.compile(r"/lookup/$"))
    wait_until(page, LOADED, "lookup.css")
    assert _sheet_rules(page, "lookup.css") > 0
    assert page.locator(".checks ul").first.evaluate(
        "element => getComputedStyle(element).listStyleType") == "none"
    boss.assert_clean()

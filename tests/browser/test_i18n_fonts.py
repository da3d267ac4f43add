"""Script fonts in a real browser: the Tai Viet font is fetched only for a Tai Viet locale,
never on Vietnamese pages, and Tai Viet text really is drawn with it.

The rendering test runs chromium with a fontconfig that only knows DejaVu, like the many
phones and PCs without a Tai Viet font: without our web font the letters become identical
"tofu" boxes, with it they are distinct glyphs.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, PHONE, wait_until

pytestmark = pytest.mark.browser

FONT = "/static/vendor/fonts/noto-sans-tai-viet-tai-viet-400-normal.woff2"
STYLESHEET = "/static/css/fonts-tavt.css"
#: Tai Viet letters (U+AA80…U+AA85), not words: no minority-language text is made up here.
LETTERS_A, LETTERS_B = "\uaa80\uaa81\uaa82", "\uaa83\uaa84\uaa85"
DEJAVU = "/usr/share/fonts/truetype/dejavu"
ADD_SAMPLES = """([a, b]) => {
  for (const [id, text] of [["sample-a", a], ["sample-b", b]]) {
    const p = document.createElement("p");
    p.id = id; p.lang = "blt-Tavt"; p.textContent = text;
    p.style.fontSize = "48px"; p.style.display = "inline-block"; p.style.margin = "0";
    document.querySelector("main").prepend(p);
  }
}"""


def _font_urls(watched) -> list[str]:
    return [r.url for r in watched.requests if r.resource_type == "font"]


def test_vietnamese_pages_never_request_script_fonts(phone):
    phone.goto("/?lang=vi")
    phone.page.evaluate("document.fonts.ready")

    assert phone.page.locator(f'link[href^="{STYLESHEET}?v="]').count() == 0
    assert _font_urls(phone) == []
    phone.assert_clean()


def test_a_tai_viet_locale_fetches_only_the_script_subset(phone):
    phone.goto("/?lang=blt-Tavt")
    phone.page.evaluate(ADD_SAMPLES, [LETTERS_A, LETTERS_B])
    phone.page.evaluate("document.fonts.ready")
    wait_until(phone.page, "document.fonts.check('48px \"Dantoc Tai Viet\"', '\\uaa80')")

    assert phone.page.get_attribute("html", "lang") == "blt-Tavt"
    assert phone.page.locator(f'link[href^="{STYLESHEET}?v="]').count() == 1
    assert _font_urls(phone) == [phone.base_url + FONT]
    phone.assert_clean()


@pytest.fixture(scope="module")
def bare_browser(browser, tmp_path_factory):
    """Chromium that knows only DejaVu fonts: no system font covers Tai Viet."""
    directory = tmp_path_factory.mktemp("fontconfig")
    config = directory / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                      f"<fontconfig><dir>{DEJAVU}</dir>"
                      f"<cachedir>{directory / 'cache'}</cachedir></fontconfig>\n")
    env = {**os.environ, "FONTCONFIG_FILE": str(config)}
    bare = browser.browser_type.launch(executable_path=shutil.which("chromium"),
                                       args=CHROMIUM_ARGS, env=env)
    yield bare
    bare.close()


def _render(browser, url: str, block_font: bool) -> tuple[bytes, bytes, float]:
    """Screenshots of the two sample strings on a Tai Viet page, and the first's width."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    try:
        page = context.new_page()
        if block_font:
            page.route("**/*.woff2", lambda route: route.abort())
        page.goto(url + "/?lang=blt-Tavt", wait_until="load")
        page.evaluate(ADD_SAMPLES, [LETTERS_A, LETTERS_B])
        page.evaluate("document.fonts.ready")
        if not block_font:
            wait_until(page,
                       "document.fonts.check('48px \"Dantoc Tai Viet\"', '\\uaa80')")
        a, b = page.locator("#sample-a"), page.locator("#sample-b")
        return a.screenshot(), b.screenshot(), a.bounding_box()["width"]
    finally:
        context.close()


def test_tai_viet_text_is_drawn_with_the_web_font(bare_browser, live_server):
    with_font_a, with_font_b, width_with = _render(bare_browser, live_server.url, False)
    blocked_a, blocked_b, width_blocked = _render(bare_browser, live_server.url, True)

    assert blocked_a == blocked_b  # without the font: the same boxes for any letters
    assert with_font_a != with_font_b  # with it: real, distinct glyphs
    assert with_font_a != blocked_a
    assert width_with != width_blocked

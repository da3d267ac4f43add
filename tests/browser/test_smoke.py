"""Smoke test in a real browser: the home page on a phone, language switch, staff sign-in."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

HTMX_VERSION = "2.0.11"  # package.json pins it


def test_home_page_on_a_phone(phone):
    response = phone.goto("/")
    page = phone.page

    assert response.status == 200
    assert page.get_attribute("html", "lang") == "vi"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    assert page.evaluate("window.htmx && window.htmx.version") == HTMX_VERSION
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert len(scripts) == 1 and scripts[0].startswith(phone.base_url + "/app.js?v=")  # htmx+
    phone.assert_clean()


def test_manifest_link_resolves(phone):
    """Linked by the page script once a service worker serves the site: a first visit does
    not download the manifest (budgets.md §6.2); the app is installable from the next page."""
    phone.goto("/")
    assert phone.page.locator("link[rel=manifest]").count() == 0
    # Polled from here: the page's policy forbids the eval a page-side wait would need.
    for _ in range(150):
        if phone.page.evaluate("!!navigator.serviceWorker.controller"):
            break
        phone.page.wait_for_timeout(100)
    phone.goto("/")
    href = phone.page.eval_on_selector("link[rel=manifest]", "link => link.href")

    response = phone.page.request.get(href)

    assert response.status == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] and manifest["start_url"] == "/" and manifest["lang"] == "vi"


def test_no_web_fonts_are_loaded(phone):
    phone.goto("/")
    phone.page.evaluate("document.fonts.ready")

    assert phone.page.evaluate("document.fonts.size") == 0
    assert [r.url for r in phone.requests if r.resource_type == "font"] == []


def test_language_switch_to_english(phone):
    phone.goto("/")

    phone.page.select_option("form.lang select[name=locale]", "en")
    phone.page.click("form.lang button[type=submit]")
    phone.page.wait_for_selector("html[lang=en]")

    assert phone.page.url == phone.base_url + "/"
    assert phone.page.input_value("form.lang select[name=locale]") == "en"
    phone.goto("/")  # the choice is remembered on this device
    assert phone.page.get_attribute("html", "lang") == "en"
    phone.assert_clean()


def test_province_officer_signs_in_and_lands_on_completeness(phone, live_server):
    username, password = live_server.sign_in_for("province_officer")
    phone.goto("/accounts/login")

    phone.page.fill("input[name=username]", username)
    phone.page.fill("input[name=password]", password)
    phone.page.click("form button[type=submit].primary")
    phone.page.wait_for_url(phone.base_url + "/reports/completeness")

    assert phone.page.locator("main h1").count() == 1
    assert username in phone.page.inner_text("header")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.assert_clean()

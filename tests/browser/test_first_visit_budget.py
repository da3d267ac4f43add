"""Issue 17 item 1: the village head's first visit of a form, everything Chromium *and* its
service worker download, within budgets.md §6.2 (≤ 30 KB, ≤ 4 requests); the repeat visit
is one request.

Counted twice, each way checking the other:

- with the DevTools protocol on every target (tests/browser/cdp.py: the page, the service
  worker it registers, any other worker), which says *who* asked for what;
- on the wire, by the loopback proxy the phone reaches the server through
  (tests/browser/proxy.py): status line, headers and compressed body of every answer, as
  sent (DevTools undercounts a worker's own script: it reports its headers only).

The two must name the same requests. From the navigation until the worker is active and
nothing has moved for a while. The phone is signed in beforehand without loading a page
(the API request context shares the browser's cookies), so nothing is cached and no worker
is registered: the worst first visit, not the usual one (the sign-in page first).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest

from tests.browser.cdp import DevTools, Downloads
from tests.browser.chromium import Chromium
from tests.browser.proxy import Proxy

pytestmark = pytest.mark.browser

VISIT_BUDGET = 30_000
VISIT_REQUESTS = 4
#: The network is "quiet" after this long without a request in flight.
QUIET = 2.0
YEARLY = "LC-DEMO-PT-NAM"
FIELD = "form.entry .field input:not([type=hidden]):not([type=radio])"
#: The page has its outbox key, the worker its offline page and outbox list.
READY = """(async () => (await caches.keys()).some(k => k.startsWith('dantoc-user-')) &&
  (await caches.keys()).some(k => k.startsWith('dantoc-static-')) &&
  !!(await (await caches.open((await caches.keys()).find(k => k.startsWith('dantoc-static-'))))
    .match('/offline')))()"""
WORKER_ACTIVE = """(async () => {
  const r = await navigator.serviceWorker.getRegistration('/');
  return !!(r && r.active && r.active.state === 'activated');
})()"""


def _sign_in(context, base: str, server) -> None:
    username, password = server.sign_in_for("village_head")
    page = context.request.get(base + "/accounts/login?password=1")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text()).group(1)
    answer = context.request.post(base + "/accounts/login?password=1", form={
        "csrf_token": token, "username": username, "password": password})
    assert answer.ok and answer.url.endswith("/entry/"), answer.url


def _form_url(context, base: str) -> str:
    home = context.request.get(base + "/entry/").text()
    return base + re.search(rf'href="(/entry/\d+/{YEARLY}/\d+)"', home).group(1)


def _quiet(downloads: Downloads, proxy: Proxy, page, settled: str, timeout: float = 30):
    """Until ``settled`` (a page expression) holds and neither DevTools nor the proxy has
    seen a request start or run for :data:`QUIET` seconds."""
    deadline = time.monotonic() + timeout
    calm_since, seen = None, None
    while time.monotonic() < deadline:
        now = (len(downloads.transfers), proxy.mark())
        busy = (downloads.pending() or now != seen
                or any(e.outcome == "open" for e in proxy.since(0))
                or not page.evaluate(settled))
        seen = now
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= QUIET:
            return
        time.sleep(0.1)
    raise AssertionError(f"the network did not settle: {downloads.pending()}")


def _visit(downloads: Downloads, proxy: Proxy, page, url: str, settled: str):
    """Open ``url``; return (DevTools transfers, proxy exchanges) of the visit."""
    downloads.reset()
    mark = proxy.mark()
    page.goto(url, wait_until="load")
    _quiet(downloads, proxy, page, settled)
    return downloads.network(), proxy.since(mark)


def _report(label: str, transfers, exchanges) -> int:
    wire = sum(e.response_bytes for e in exchanges)
    print(f"{label}: {wire} B on the wire in {len(exchanges)} requests "
          f"(DevTools: {sum(t.received for t in transfers)} B in {len(transfers)})")
    for t in transfers:
        print(f"  {t.target:15} {t.method} {t.status} {t.received:6} B {t.url}")
    for e in exchanges:
        print(f"  wire {e.method} {e.path}: {e.response_bytes} B")
    return wire


def _names(transfers, exchanges):
    cdp = Counter((t.method, urlsplit(t.url).path + (f"?{urlsplit(t.url).query}"
                                                      if urlsplit(t.url).query else ""))
                  for t in transfers)
    wire = Counter((e.method, e.path) for e in exchanges)
    return cdp, wire


def test_first_visit_of_a_form_within_budget_worker_included(browser, offline_server,
                                                              offline_proxy, tmp_path):
    """The module's own server (the demo questionnaire is still open there), reached
    through the proxy."""
    proxy = offline_proxy
    chromium = Chromium(browser.browser_type, tmp_path / "profile", tmp_path / "chromium.log")
    context = chromium.launch()
    try:
        _sign_in(context, proxy.url, offline_server)
        url = _form_url(context, proxy.url)
        page = context.pages[0] if context.pages else context.new_page()
        with DevTools(chromium.port) as devtools:
            downloads = Downloads(devtools)
            first, first_wire = _visit(downloads, proxy, page, url, WORKER_ACTIVE)
            # The person starts filling the form: what the phone needs for working offline
            # comes now, once.
            mark = proxy.mark()
            page.locator(FIELD).first.fill("1")
            _quiet(downloads, proxy, page, READY)
            prepared = proxy.since(mark)
            repeat, repeat_wire = _visit(downloads, proxy, page, url, "true")
            controlled = page.evaluate("!!navigator.serviceWorker.controller")
    finally:
        chromium.close()
    total = _report("first visit", first, first_wire)
    _report("when the person starts typing", [], prepared)
    _report("repeat visit", repeat, repeat_wire)
    cdp, wire = _names(first, first_wire)
    # DevTools does not show the browser checking a new worker's imported script (the
    # bundle, from the HTTP cache: a 304); everything else it names, the wire has too.
    bundle = next(p for m, p in cdp if p.startswith("/app.js?v="))
    assert cdp + Counter({("GET", bundle): 1}) == wire, "DevTools and the wire disagree"
    # The worker's own download is seen on its own target, not only the page's.
    assert {t.target for t in first} == {"page", "service_worker"}
    assert ("GET", "/sw.js") in wire
    assert len(first_wire) <= VISIT_REQUESTS
    assert total <= VISIT_BUDGET
    # Nothing twice: no second copy of the page, no session state; the bundle once (and its
    # check, without a body).
    assert max(cdp.values()) == 1
    assert [e.response_bytes < 400 for e in first_wire if e.path == bundle] == [False, True]
    assert sorted(e.path for e in prepared) == [
        "/manifest.webmanifest", "/offline", "/outbox", "/session/state"]
    # The repeat visit: the page, through the worker. The browser's own check of the worker
    # script (a 304, no body) comes with every navigation of a site with a worker.
    path = urlsplit(url).path
    assert controlled
    assert _names(repeat, repeat_wire)[0] == Counter({("GET", path): 1})
    assert sorted((e.method, e.path) for e in repeat_wire) == [("GET", path), ("GET", "/sw.js")]
    assert next(e for e in repeat_wire if e.path == "/sw.js").response_bytes < 300

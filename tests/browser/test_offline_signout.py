"""Issue #6: the offline reload of a form after one visit, the shared phone (sign-out with
unsent items, the next user, the owner's return), refused persistent storage, and a service
worker upgrade with five items queued. Chromium on a persistent profile behind the fault
proxy (tests/browser/offline.py); ASVS 14.3.1 and reliability.md §3.2, §4.3.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.conftest import wait_until
from tests.browser.offline import (
    STORAGE_HELPERS,
    Phone,
    open_entry,
    server_submissions,
    signed_in,
    vi,
)
from tests.browser.proxy import Rule

pytestmark = pytest.mark.browser

#: Everything the origin keeps in the browser, binary values and keys described, not shown.
STORAGE = """async () => {
""" + STORAGE_HELPERS + """
  const out = {caches: {}, databases: [], stores: {}, local: {}, session: {}};
  for (const name of await caches.keys()) {
    const requests = await (await caches.open(name)).keys();
    out.caches[name] = requests.map(r => new URL(r.url)).map(u => u.pathname + u.search);
  }
  out.databases = (await indexedDB.databases()).map(d => d.name).sort();
  for (const name of out.databases) {
    const db = await req(indexedDB.open(name));
    for (const store of db.objectStoreNames) {
      const s = db.transaction(store).objectStore(store);
      const [keys, values] = await Promise.all([req(s.getAllKeys()), req(s.getAll())]);
      out.stores[`${name}/${store}`] = keys.map((k, i) => [describe(k), describe(values[i])]);
    }
    db.close();
  }
  out.local = Object.fromEntries(Object.keys(localStorage).map(k => [k, localStorage[k]]));
  out.session = Object.fromEntries(Object.keys(sessionStorage).map(k => [k, sessionStorage[k]]));
  return out;
}"""
#: navigator.storage.persist() refused, as browsers may: the test must not depend on the
#: browser's heuristics (test (a) grants it through DevTools).
PERSIST_DENIED = """if (self.navigator && navigator.storage) {
  navigator.storage.persist = () => Promise.resolve(false);
  navigator.storage.persisted = () => Promise.resolve(false);
}"""
#: Paths a signed-out browser may keep in Cache Storage: public, the same for everyone.
PUBLIC = ("/app.js?v=", "/offline", "/manifest.webmanifest", "/static/")
#: What htmx keeps in sessionStorage: the path of the page on screen.
HTMX_PATH = "htmx-current-path-for-history"
#: Typed into the queued report: the first must never be readable on the phone after
#: sign-out (the second is too short to search for).
SECRET_VALUES = [4817, 3]
#: Sends of one failing item in BACKOFF_WINDOW seconds: the page's own try, then 1 s, 2 s,
#: 4 s … (a page load or the worker starting may add one each).
BACKOFF_WINDOW, BACKOFF_MAX_TRIES = 10, 8


def _on_server(server, key: str) -> bool:
    return key in {k for k, _ in server_submissions(server, server.seeded["head_id"])}


def _wait(condition, timeout: float, phone: Phone, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        phone.page.wait_for_timeout(200)


def _item_keys(storage: dict) -> list[str]:
    return [key for key, _value in storage["stores"].get("dantoc-outbox/items", [])]


def test_a_form_opened_once_opens_offline_from_the_users_cache(offline_phone, offline_server,
                                                               targets):
    phone = offline_phone
    phone.grant_persistent_storage()
    signed_in(phone, offline_server)
    owner = phone.page.get_attribute("#outbox", "data-user")
    path, never_opened = targets.next(), targets.next()
    key = open_entry(phone, path)
    expect(phone.page.locator("#storage-warning")).to_be_hidden()  # persist() was granted
    caches = phone.evaluate(STORAGE)["caches"]
    assert path in caches[f"dantoc-user-{owner}"] and "/entry/" in caches[f"dantoc-user-{owner}"]

    phone.set_network("offline")
    response = phone.reload()
    assert response.from_service_worker
    assert phone.page.input_value("form.entry input[name=uuid]") == key  # the same page
    phone.goto("/entry/")
    assert phone.page.locator(f"a[href='{path}']").count() == 1
    phone.goto(never_opened)  # never kept: the public offline page, nobody's data
    assert phone.page.locator("form.entry").count() == 0
    assert phone.page.title() == vi("No connection")

    phone.set_network("lie-fi")  # "online", but nothing gets through
    phone.goto(path)
    assert phone.page.input_value("form.entry input[name=uuid]") == key


def test_signing_out_keeps_unsent_items_locked_to_their_owner(offline_phone, offline_server,
                                                               offline_proxy, targets):
    phone, server = offline_phone, offline_server
    second_head = tuple(server.seeded["second_head"])
    signed_in(phone, server)
    owner = phone.page.get_attribute("#outbox", "data-user")
    path = targets.next()
    open_entry(phone, path)
    form_name = phone.page.locator("h1").inner_text()
    phone.set_network("uploads-fail")  # pages load, the report does not go
    phone.fill(SECRET_VALUES)
    key = phone.submit()
    _wait(lambda: phone.outbox() == [{"uuid": key, "state": "queued", "message": ""}], 10,
          phone, f"not queued: {phone.outbox()}")
    assert phone.count() == 1

    # (b) Signing out warns with the count; "Cancel" keeps the user signed in.
    sign_out = phone.page.locator("form[action$='/accounts/logout'] button[type=submit]")
    sign_out.click()
    dialog = phone.page.locator("#signout-warning")
    expect(dialog).to_be_visible()
    assert dialog.locator("[data-n]").inner_text() == "1"
    dialog.locator("button[value=cancel]").click()
    expect(dialog).to_be_hidden()
    assert phone.evaluate("fetch('/session/state').then(r => r.status)") == 200
    # Sign out while another tab is sending ("Send now" on the outbox page): the server
    # answered its session check before the sign-out, the answer arrives after it, and must
    # not bring the key back.
    other_tab = phone.context.new_page()
    other_tab.goto(phone.base + "/outbox")
    offline_proxy.set_rules(Rule.of("slow-response", {"GET"}, ["/session/state"]),
                            Rule.of("refuse", {"POST"}, ["/entry/"]))
    mark = offline_proxy.mark()
    other_tab.click("#outbox-send")
    in_flight = offline_proxy.wait_for(lambda e: e.path == "/session/state", 5, after=mark)
    sign_out.click()
    dialog.locator("button[value=go]").click()
    phone.page.wait_for_url("**/accounts/login**")
    phone.page.wait_for_load_state("load")
    assert in_flight.outcome == "open", "the other tab's send ended before the sign-out"
    offline_proxy.wait_for(lambda e: e is in_flight and e.outcome != "open", 15)
    other_tab.wait_for_timeout(500)
    other_tab.close()
    phone.set_network("uploads-fail")

    left = phone.evaluate(STORAGE)
    assert phone.evaluate("fetch('/session/state').then(r => r.status)") == 401
    assert phone.page.locator("#outbox").count() == 0
    assert all(name.startswith("dantoc-static-") for name in left["caches"]), left["caches"]
    assert all(url.startswith(PUBLIC) for urls in left["caches"].values() for url in urls), (
        left["caches"])
    assert left["databases"] == ["dantoc-outbox"]
    # htmx notes the path of the page on screen (the public sign-in page); nothing else.
    assert left["local"] == {}
    assert left["session"] in ({}, {HTMX_PATH: "/accounts/login"}), left["session"]
    assert left["stores"]["dantoc-outbox/keys"] == []  # the owner's key is gone
    meta = dict(left["stores"]["dantoc-outbox/meta"])  # no owner; flags only
    assert set(meta) <= {"persist", "told", "paused"}, meta
    assert set(map(type, meta.values())) <= {bool}, meta
    ((item_key, item),) = left["stores"]["dantoc-outbox/items"]
    assert item_key == key and item["owner"] == owner and item["state"] == "queued"
    assert set(item["body"]) == {"iv", "data"}, item["body"]  # encrypted, no plain copy
    readable = json.dumps(left, ensure_ascii=False)
    # The item's own numbers (a random revision, times in ms) may contain the secret's digits
    # by chance (CI once found "4817" inside rev 0.6530237848173214): they are not the answer.
    for number in (item["rev"], item["created"], item["next_at"]):
        readable = readable.replace(json.dumps(number), "<number>")
    for secret in [str(SECRET_VALUES[0]), form_name, second_head[0], "demo-thon"]:
        assert secret not in readable, f"{secret!r} readable after sign-out: {readable}"

    # Back shows nothing private, online or offline.
    for network in ("online", "offline"):
        phone.set_network(network)
        mark = offline_proxy.mark()
        try:  # a page may come back from the back/forward cache: no new "load" then
            phone.page.go_back(wait_until="commit")
            wait_until(phone.page, "document.readyState === 'complete'")
        except PlaywrightError as error:
            raise AssertionError(f"Back ({network}) did not load: {offline_proxy.since(mark)}"
                                 ) from error
        text = phone.page.content()
        assert phone.page.locator("form.entry, #outbox").count() == 0, (network, text)
        assert "demo-thon" not in text and form_name not in text, (network, text)
        phone.goto("/accounts/login")
    phone.set_network("online")

    # (c) Another village head of the same village on the same phone, network fine: the
    # item is not theirs to see or send.
    phone.sign_in(*second_head)
    phone.wait_for_worker()
    phone.goto("/outbox")
    phone.flush()
    assert phone.outbox() == [] and phone.count() == 0
    assert phone.page.locator(f"[data-queued='{key}'], [data-attention='{key}']").count() == 0
    expect(phone.page.locator("#outbox-empty")).to_be_visible()
    phone.page.wait_for_timeout(2000)  # page-load and timer sends would have gone by now
    assert not _on_server(server, key)
    assert _item_keys(phone.evaluate(STORAGE)) == [key]
    phone.page.locator("form[action$='/accounts/logout'] button[type=submit]").click()
    phone.page.wait_for_url("**/accounts/login**")  # nothing unsent: no warning
    assert _item_keys(phone.evaluate(STORAGE)) == [key]

    # (d) The owner signs in again: the item is delivered and leaves the phone.
    phone.sign_in(*server.sign_in_for("village_head"))
    _wait(lambda: _on_server(server, key), 20, phone, "the owner's item was not delivered")
    _wait(lambda: _item_keys(phone.evaluate(STORAGE)) == [], 20, phone, "item not removed")
    log = phone.evaluate(STORAGE)["stores"]["dantoc-outbox/log"]
    assert [v["reason"] for _k, v in log if v["uuid"] == key] == ["acknowledged"]
    assert phone.count() == 0
    assert phone.page_errors == []


def test_refused_persistent_storage_is_said_once_calmly_with_what_to_do(
        offline_phone, offline_server, targets):
    """Issue 16 defect 5: the person can do nothing about the browser's refusal, so it is
    said once, as a note (not a red error), with what to do; not on every page."""
    phone = offline_phone
    phone.init_scripts += (PERSIST_DENIED,)
    phone.context.add_init_script(PERSIST_DENIED)
    phone.sign_in(*offline_server.sign_in_for("village_head"))
    note = phone.page.locator("#storage-warning")
    expect(note).to_be_visible()
    # Below what the person came for: the script shows it after the page is on screen, and
    # above the list it moved the links under the finger (a tap then missed its report).
    assert phone.page.url.endswith("/entry/")
    assert phone.page.evaluate("""() => document.querySelector('ul.due').getBoundingClientRect()
        .bottom <= document.getElementById('storage-warning').getBoundingClientRect().top""")
    assert note.inner_text().startswith(vi(
        "This phone may clear saved data when it runs short of space. When you have signal, "
        "open this app so that your reports are sent."))
    assert note.get_attribute("role") != "alert" and "error" not in note.get_attribute("class")
    assert note.evaluate("e => getComputedStyle(e).backgroundColor") != "rgb(253, 236, 238)"
    for path in ("/entry/", targets.next(), "/outbox"):  # not again, on any page
        phone.goto(path)
        phone.page.wait_for_load_state("load")
        phone.page.wait_for_timeout(300)  # the page script has looked at the outbox
        expect(note).to_be_hidden()
    phone.reload()
    phone.page.wait_for_timeout(300)
    expect(note).to_be_hidden()
    assert phone.page_errors == []


def test_a_new_service_worker_keeps_five_queued_items(offline_phone, offline_server, targets):
    phone, server = offline_phone, offline_server
    signed_in(phone, server)
    queued = []
    for _ in range(5):
        phone.set_network("uploads-fail")  # open the form (going online would send)
        open_entry(phone, targets.next())
        phone.set_network("offline")
        phone.fill([120, 1])
        queued.append(phone.submit())
    assert sorted(i["uuid"] for i in phone.outbox()) == sorted(queued)

    phone.set_network("uploads-fail")  # the new worker loads, the reports cannot go
    before, after = phone.upgrade_worker()
    items = phone.outbox()
    assert sorted(i["uuid"] for i in items) == sorted(queued), (before, after, items)
    assert {i["state"] for i in items} == {"queued"}
    assert not any(_on_server(server, key) for key in queued)

    assert phone.drain(timeout=60) == []
    assert all(_on_server(server, key) for key in queued)
    assert phone.count() == 0
    assert phone.page_errors == []


def test_failing_uploads_back_off(offline_phone, offline_server, offline_proxy, targets):
    """While sends fail, the outbox waits 1 s, 2 s, 4 s … between tries (capped at 60 s):
    no loop hammering the server and the phone's battery."""
    phone, server = offline_phone, offline_server
    signed_in(phone, server)
    path = targets.next()
    open_entry(phone, path)
    phone.set_network("uploads-fail")
    phone.fill([75, 0])
    mark = offline_proxy.mark()
    key = phone.submit()
    phone.page.wait_for_timeout(BACKOFF_WINDOW * 1000)
    tries = [e for e in offline_proxy.since(mark) if e.method == "POST" and e.path == path]
    assert 1 <= len(tries) <= BACKOFF_MAX_TRIES, (
        f"{len(tries)} sends of one failing item in {BACKOFF_WINDOW} s")
    assert phone.outbox() == [{"uuid": key, "state": "queued", "message": ""}]
    assert phone.drain(timeout=60) == []
    assert _on_server(server, key)

"""Issue #6 part 5: drafts kept on the phone. "Save draft" that cannot reach the server keeps
the draft in the outbox database (store ``drafts``), the form shows it again when opened
(offline too), the outbox saves it on the server once online; an outbox upgrade (IndexedDB
version 1 → 2) and a new service worker keep every queued item and draft; drafts follow the
sign-out rule of items. Chromium on a persistent profile behind the fault proxy
(tests/browser/offline.py); docs/offline.md, "Drafts".
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.offline import (
    SIGNED_IN,
    Phone,
    local_drafts,
    open_entry,
    outbox_dump,
    server_submissions,
    server_versions,
    signed_in,
    vi,
)
from tests.browser.proxy import Rule

pytestmark = pytest.mark.browser

DRAFT_KEPT = "Draft kept on this phone; it will be saved when you are online"
DRAFT_RESTORED = "Draft restored from this phone"
#: The visible "Save draft" button of the entry form (not the hidden Enter default).
SAVE_DRAFT = "form.entry .actions button[value=draft]"
#: The indicator inputs of the test forms (two numbers), in page order.
INPUTS = "form.entry .field input:not([type=hidden])"

#: What the version-1 outbox code (before drafts) left on a phone after a sign-in and three
#: submits it could not send: the database at version 1 with its four stores, the owner's
#: key, meta.owner, a log entry, and the items encrypted as its `put` did (the fields of the
#: real form page, as FormData gives them, with action=submit). Runs on a page without the
#: app's script, so nothing else opens the database first.
OUTBOX_V1 = """async ({paths, values}) => {
  const req = r => new Promise((ok, ko) => { r.onsuccess = () => ok(r.result);
                                              r.onerror = () => ko(r.error); });
  const s = await (await fetch('/session/state', {headers: {Accept: 'application/json'}})).json();
  const raw = Uint8Array.from(atob(s.key), c => c.charCodeAt(0));
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const items = [];
  for (const url of paths) {
    const page = new DOMParser().parseFromString(await (await fetch(url)).text(), 'text/html');
    const form = document.importNode(page.querySelector('form.entry'), true);
    form.querySelectorAll('.field input:not([type=hidden])')
      .forEach((el, n) => { el.value = String(values[n]); });
    const fields = [...new FormData(form)]
      .filter(([k, v]) => typeof v === 'string' && k !== 'action');
    fields.push(['action', 'submit']);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const text = new TextEncoder().encode(JSON.stringify({fields, label: page.title}));
    const data = await crypto.subtle.encrypt({name: 'AES-GCM', iv}, key, text);
    items.push({uuid: form.elements.uuid.value, owner: s.user, url, body: {iv, data},
                created: Date.now(), rev: Math.random(), attempts: 0, next_at: 0,
                state: 'queued', message: ''});
  }
  const open = indexedDB.open('dantoc-outbox', 1);
  open.onupgradeneeded = () => {
    const d = open.result;
    d.createObjectStore('items', {keyPath: 'uuid'});
    d.createObjectStore('keys', {keyPath: 'owner'});
    d.createObjectStore('meta');
    d.createObjectStore('log', {autoIncrement: true});
  };
  const db = await req(open);
  const t = db.transaction(['items', 'keys', 'meta', 'log'], 'readwrite', {durability: 'strict'});
  const done = new Promise((ok, ko) => {
    t.oncomplete = ok;
    t.onerror = t.onabort = () => ko(t.error);
  });
  for (const item of items) t.objectStore('items').put(item);
  t.objectStore('keys').put({owner: s.user, key});
  t.objectStore('meta').put(s.user, 'owner');
  t.objectStore('meta').put(true, 'persist');
  t.objectStore('log').add({uuid: 'from-version-1', reason: 'acknowledged', at: 1});
  await done;
  db.close();
  return {owner: s.user, uuids: items.map(i => i.uuid)};
}"""


def _wait(condition, timeout: float, phone: Phone, message) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message() if callable(message) else message
        phone.page.wait_for_timeout(200)


def _typed(phone: Phone) -> dict[str, str]:
    """name → value of the indicator inputs on screen."""
    return phone.page.eval_on_selector_all(
        INPUTS, "els => Object.fromEntries(els.map(e => [e.name, e.value]))")


def _kept_copy(phone: Phone, owner: str, path: str) -> bool:
    return phone.evaluate(
        "([name, path]) => caches.open(name).then(c => c.match(path, {ignoreVary: true}))"
        ".then(r => !!r)", [f"dantoc-user-{owner}", path])


def _save_draft_kept(phone: Phone, key: str, owner: str, path: str) -> None:
    """Press "Save draft" where the server cannot be reached: the local notice, one draft."""
    phone.page.click(SAVE_DRAFT)
    expect(phone.page.locator("#status")).to_have_text(vi(DRAFT_KEPT))
    draft = local_drafts(phone)[key]
    assert draft["owner"] == owner and draft["url"] == path, draft
    assert set(draft["body"]) == {"iv", "data"}, draft  # encrypted with the owner's key
    assert isinstance(draft["saved_at"], (int, float)) and "message" not in draft


def _draft_on_server(server, key: str, typed: dict[str, str]) -> bool:
    """The server holds exactly a draft (unsubmitted version) of ``key`` with ``typed``."""
    versions = server_versions(server, key)
    return (len(versions) == 1 and versions[0][2] is None
            and all(versions[0][1].get(name) == value for name, value in typed.items()))


def _log(phone: Phone, key: str) -> list[str]:
    return [v["reason"] for _k, v in outbox_dump(phone)["stores"]["log"] if v["uuid"] == key]


def test_a_draft_saved_offline_comes_back_and_reaches_the_server(offline_phone, offline_server,
                                                                 targets):
    phone, server = offline_phone, offline_server
    owner = signed_in(phone, server)
    path = targets.next()
    key = open_entry(phone, path)
    _wait(lambda: _kept_copy(phone, owner, path), 15, phone, "form page not kept for offline")

    phone.set_network("offline")
    phone.fill([37, 2])
    typed = _typed(phone)
    _save_draft_kept(phone, key, owner, path)
    assert server_versions(server, key) == []

    # Reopened offline: the kept page, with what was typed put back, and a notice.
    phone.fill([0, 0])  # what is on screen now must not matter: the kept draft does
    response = phone.reload()
    assert response.from_service_worker
    assert phone.page.input_value("form.entry input[name=uuid]") == key
    expect(phone.page.locator("#status")).to_have_text(vi(DRAFT_RESTORED))
    assert _typed(phone) == typed
    assert phone.count() == 0  # a draft is not a report waiting to be sent

    # Online again: the outbox saves it as a draft on the server, then forgets it.
    phone.set_network("online")
    _wait(lambda: _draft_on_server(server, key, typed), 30, phone,
          lambda: f"draft not on the server: {server_versions(server, key)}")
    _wait(lambda: key not in local_drafts(phone), 15, phone, "local draft not deleted")
    assert _log(phone, key) == ["draft acknowledged"]
    ((state,),) = server.rows("SELECT state FROM submissions WHERE id = :id", id=dict(
        server_submissions(server, server.seeded["head_id"]))[key])
    assert state == "draft"

    # Reopened online: the server's draft, nothing kept on the phone any more.
    phone.reload()
    assert _typed(phone) == typed
    expect(phone.page.locator("#status")).not_to_have_text(vi(DRAFT_RESTORED))
    assert phone.page_errors == []


def test_an_outbox_upgrade_and_a_new_worker_keep_items_and_drafts(
        offline_phone, offline_server, offline_proxy, targets):
    phone, server = offline_phone, offline_server
    queued_paths = [targets.next() for _ in range(3)]
    draft_path = targets.next()

    # The phone as the version-1 code left it. No app script or worker runs yet: the sign-in
    # is a plain form post.
    offline_proxy.set_rules(Rule.of("refuse", {"GET"}, ["/app.js", "/sw.js"]))
    phone.sign_in(*server.sign_in_for("village_head"))
    v1 = phone.evaluate(OUTBOX_V1, {"paths": queued_paths, "values": [120, 1]})
    owner, queued = v1["owner"], sorted(v1["uuids"])
    assert len(set(queued)) == 3
    before = outbox_dump(phone)
    assert before["version"] == 1 and set(before["stores"]) == {"items", "keys", "meta", "log"}

    # The app loads (uploads fail): the outbox is upgraded to version 2, nothing lost.
    phone.set_network("uploads-fail")
    phone.goto("/entry/")
    phone.page.wait_for_selector(SIGNED_IN, state="attached")
    _wait(lambda: outbox_dump(phone)["version"] == 2, 15, phone, "outbox not upgraded")
    after = outbox_dump(phone)
    assert set(after["stores"]) == {"items", "keys", "meta", "log", "drafts"}
    assert after["stores"]["keys"] == before["stores"]["keys"]
    meta = dict(after["stores"]["meta"])
    assert {k: meta.get(k) for k, _v in before["stores"]["meta"]} == dict(
        before["stores"]["meta"]), meta
    assert after["stores"]["log"][0] == before["stores"]["log"][0]
    assert sorted(i["uuid"] for i in phone.outbox()) == queued
    assert {i["state"] for i in phone.outbox()} == {"queued"}
    assert phone.count() == 3
    phone.wait_for_worker()

    # A draft the server cannot take: the phone believes it is online, the POST fails.
    draft_key = open_entry(phone, draft_path)
    phone.fill([64, 3])
    typed = _typed(phone)
    _save_draft_kept(phone, draft_key, owner, draft_path)

    # A new service worker (and a reload of the form): every item and the draft stay.
    phone.fill([0, 0])  # what is on screen now must not matter: the kept draft does
    caches_before, caches_after = phone.upgrade_worker()
    expect(phone.page.locator("#status")).to_have_text(vi(DRAFT_RESTORED))
    assert _typed(phone) == typed
    # The page loaded online carries a new UUID (the form was never saved on the server):
    # it takes the draft's, so that what is saved or submitted here continues that draft.
    assert phone.page.input_value("form.entry input[name=uuid]") == draft_key
    assert sorted(i["uuid"] for i in phone.outbox()) == queued, (caches_before, caches_after)
    assert list(local_drafts(phone)) == [draft_key]
    assert outbox_dump(phone)["version"] == 2
    assert not any(server_versions(server, key) for key in [*queued, draft_key])

    # Online: the items are submitted, the draft saved as a draft; the phone keeps nothing.
    assert phone.drain(timeout=60) == []
    _wait(lambda: local_drafts(phone) == {}, 30, phone,
          lambda: f"draft not sent: {local_drafts(phone)}")
    for key in queued:
        versions = server_versions(server, key)
        assert len(versions) == 1 and versions[0][2] is not None, (key, versions)
        assert sorted(versions[0][1].values()) == ["1", "120"], versions
        assert _log(phone, key) == ["acknowledged"]
    assert _draft_on_server(server, draft_key, typed), server_versions(server, draft_key)
    assert _log(phone, draft_key) == ["draft acknowledged"]
    assert _log(phone, "from-version-1") == ["acknowledged"]
    assert phone.count() == 0
    assert phone.page_errors == []


def test_drafts_follow_the_sign_out_rule(offline_phone, offline_server, targets):
    phone, server = offline_phone, offline_server
    owner = signed_in(phone, server)
    path = targets.next()
    key = open_entry(phone, path)
    phone.set_network("uploads-fail")
    phone.fill([51, 0])
    typed = _typed(phone)
    _save_draft_kept(phone, key, owner, path)

    # Signing out warns (the draft counts as not sent), then leaves it locked on the phone.
    phone.page.locator("form[action$='/accounts/logout'] button[type=submit]").click()
    dialog = phone.page.locator("#signout-warning")
    expect(dialog).to_be_visible()
    assert dialog.locator("[data-n]").inner_text() == "1"
    dialog.locator("button[value=go]").click()
    phone.page.wait_for_url("**/accounts/login**")
    phone.set_network("online")
    left = outbox_dump(phone)["stores"]
    assert left["keys"] == [] and [k for k, _v in left["drafts"]] == [key]
    assert set(dict(left["drafts"])[key]["body"]) == {"iv", "data"}

    # Another village head of the village: neither shown nor sent.
    phone.sign_in(*server.seeded["second_head"][:2])
    phone.wait_for_worker()
    phone.goto("/entry/")
    phone.flush()
    phone.page.wait_for_timeout(2000)  # page-load and worker sends would have gone by now
    assert server_versions(server, key) == []
    assert list(local_drafts(phone)) == [key]
    phone.page.locator("form[action$='/accounts/logout'] button[type=submit]").click()
    phone.page.wait_for_url("**/accounts/login**")  # nothing of theirs unsent: no warning

    # The owner signs in again: the draft is saved on the server and leaves the phone.
    phone.sign_in(*server.sign_in_for("village_head"))
    _wait(lambda: _draft_on_server(server, key, typed), 30, phone,
          lambda: f"draft not on the server: {server_versions(server, key)}")
    _wait(lambda: local_drafts(phone) == {}, 15, phone, "local draft not deleted")
    assert _log(phone, key) == ["draft acknowledged"]
    assert phone.page_errors == []


def test_a_submit_supersedes_the_kept_draft(offline_phone, offline_server, targets):
    phone, server = offline_phone, offline_server
    owner = signed_in(phone, server)
    path = targets.next()
    key = open_entry(phone, path)
    phone.set_network("uploads-fail")
    phone.fill([88, 4])
    _save_draft_kept(phone, key, owner, path)

    # Submitting the same form: the outbox item replaces the draft, whose deletion is logged.
    assert phone.submit() == key
    _wait(lambda: local_drafts(phone) == {}, 10, phone, "the submit left the draft behind")
    assert _log(phone, key) == ["draft superseded"]
    assert [i["uuid"] for i in phone.outbox()] == [key]

    assert phone.drain(timeout=60) == []
    versions = server_versions(server, key)
    assert len(versions) == 1 and versions[0][2] is not None, versions  # submitted, once
    assert sorted(versions[0][1].values()) == ["4", "88"], versions
    assert _log(phone, key) == ["draft superseded", "acknowledged"]
    assert phone.page_errors == []

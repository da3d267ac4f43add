"""Drive the village head's phone for the offline tests, and check the server afterwards.

:class:`Phone` is a chromium on a persistent profile (:mod:`tests.browser.chromium`) whose
real network is :class:`~tests.browser.proxy.Proxy`, and whose ``navigator.onLine`` follows
``context.set_offline``. It records every outbox item the UI reported as "saved on this
phone" (``#outbox-notice[data-uuid]``) through a page binding, so a notice shown for a few
milliseconds before a redirect is not missed. The oracle functions read the server's
database directly.

The page side follows /tmp/pwa_contract.md: ``window.dantocOutbox.list()`` and
``.flush()``, ``#outbox-count``, ``#outbox-send``, the ``dantoc-static-<version>`` caches.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

from babel.support import Translations
from playwright.sync_api import Error as PlaywrightError

from tests.browser.chromium import Chromium
from tests.browser.conftest import PHONE, ROOT, wait_until
from tests.browser.proxy import Proxy
from tests.browser.pwa_server import PwaServer, is_sqlite

#: network name → (context offline, proxy mode, the requests the mode applies to).
#: "lie-fi": the phone believes it is online and every connection fails; "dead-zone":
#: connections hang; "uploads-fail": pages load, posting a report fails (a weak signal).
NETWORKS = {
    "online": (False, "pass", {}),
    "offline": (True, "refuse", {}),
    "lie-fi": (False, "refuse", {}),
    "dead-zone": (False, "blackhole", {}),
    "uploads-fail": (False, "refuse", {"methods": {"POST"}, "paths": ["/entry/"]}),
}

#: Reports each outbox notice once per document to the test (``__dantocNoticed``).
NOTICE_WATCH = """(() => {
  const seen = new Set();
  const report = () => {
    for (const el of document.querySelectorAll('#outbox-notice[data-uuid]')) {
      const key = el.getAttribute('data-uuid');
      const text = (el.textContent || '').trim();
      if (key && text && !el.hidden && !seen.has(key)) {
        seen.add(key);
        window.__dantocNoticed(key, text);
      }
    }
  };
  new MutationObserver(report).observe(document, {subtree: true, childList: true,
    characterData: true, attributes: true, attributeFilter: ['data-uuid', 'hidden']});
})();"""

OUTBOX_LIST = "() => window.dantocOutbox.list()"
OUTBOX_FLUSH = "() => window.dantocOutbox.flush()"
STATIC_CACHES = ("async () => (await caches.keys())"
                 ".filter(name => name.startsWith('dantoc-static-')).sort()")
WORKER_STATE = """async () => {
  const r = await navigator.serviceWorker.getRegistration('/');
  return r ? {active: r.active && r.active.state, waiting: !!r.waiting,
              installing: !!r.installing,
              controlled: !!navigator.serviceWorker.controller} : null;
}"""
#: What a navigation that lost a race with the page's own (receipt) navigation says.
INTERRUPTED = ("interrupted by another navigation", "net::ERR_ABORTED",
               "Execution context was destroyed", "Cannot find context with specified id")


#: A signed-in page (it carries the owner of the outbox); the sign-in form.
SIGNED_IN = "#outbox[data-user]:not([data-user=''])"
SIGN_IN_FORM = "form input[name=password]"


def vi(msgid: str) -> str:
    """What the Vietnamese page shows for ``msgid``."""
    return Translations.load(str(ROOT / "translations"), ["vi"]).gettext(msgid)


def saved_on_this_phone() -> str:
    """The notice text the Vietnamese page shows (the msgid until it is translated)."""
    return vi("Saved on this phone")


class Targets:
    """The seeded targets of a module's server, each used once (one submission per target)."""

    def __init__(self, server: PwaServer):
        self.unit = server.seeded["unit_id"]
        self._left = iter(server.seeded["targets"])

    def next(self) -> str:
        form, period = next(self._left)
        return f"/entry/{self.unit}/{form}/{period}"


def signed_in(phone: Phone, server: PwaServer, role: str = "village_head") -> str:
    """Sign ``role`` in, with the service worker in control, on the home page; the owner id."""
    phone.sign_in(*server.sign_in_for(role))
    phone.wait_for_worker()
    phone.goto("/entry/")
    return phone.page.get_attribute("#outbox", "data-user")


def open_entry(phone: Phone, path: str) -> str:
    """Open an entry form; the UUID its page carries."""
    phone.goto(path)
    phone.page.wait_for_selector("form.entry")
    return phone.page.input_value("form.entry input[name=uuid]")


class Phone:
    """The village head's phone: chromium, its network, and what its screen reported."""

    def __init__(self, chromium: Chromium, proxy: Proxy, server: PwaServer,
                 init_scripts: tuple[str, ...] = ()):
        self.chromium, self.proxy, self.server = chromium, proxy, server
        self.base = proxy.url
        self.init_scripts = init_scripts
        self.network = "online"
        #: (username, password) to sign in again when the browser lost its session.
        self.credentials: tuple[str, str] | None = None
        #: uuid → notice text, in the order the notices appeared.
        self.noticed: dict[str, str] = {}
        self.page_errors: list[str] = []
        self.context = self.page = None
        self._grants = None  # the DevTools session holding permission grants

    # -- the browser ------------------------------------------------------------------------

    def launch(self) -> None:
        """Start chromium on the profile and put the phone's network back as it was."""
        self.context = self.chromium.launch()
        self.context.set_default_timeout(15_000)
        self.context.expose_binding("__dantocNoticed", self._on_notice)
        self.context.add_init_script(NOTICE_WATCH)
        for script in self.init_scripts:
            self.context.add_init_script(script)
        self.context.set_offline(NETWORKS[self.network][0])  # the proxy kept its mode
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.context.on("page", self._watch)
        self._watch(self.page)

    def _watch(self, page) -> None:
        page.set_viewport_size(PHONE)  # headless chromium ignores a window under 500 px
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))

    def _on_notice(self, _source, key: str, text: str) -> None:
        self.noticed.setdefault(key, text)

    def grant_persistent_storage(self) -> None:
        """Make ``navigator.storage.persist()`` succeed, as a browser that trusts the site
        does (this chromium's heuristics refuse a new site; the refusal has its own test)."""
        # Chromium drops the grant when the DevTools session that made it detaches: keep it.
        self._grants = self.chromium.browser.new_browser_cdp_session()
        self._grants.send("Browser.setPermission",
                          {"permission": {"name": "persistent-storage"}, "setting": "granted",
                           "origin": self.base})

    def crash_and_relaunch(self) -> None:
        """SIGKILL the browser, start it again on the same profile."""
        self.chromium.kill()
        self.context = self.page = None
        self.launch()

    def close(self) -> None:
        self.chromium.close()

    # -- the network ------------------------------------------------------------------------

    def set_network(self, name: str) -> None:
        offline, mode, scope = NETWORKS[name]
        self.network = name
        self.context.set_offline(offline)
        self.proxy.set_mode(mode, **scope)

    # -- pages ------------------------------------------------------------------------------

    def goto(self, path: str):
        """Navigate. When the page's own navigation (to a receipt, once its item was sent)
        or a redirect the service worker passed on cut ours short, let the page settle: done
        if it is where we wanted (or at the sign-in page), else navigate again. Two
        navigations racing is not a failure of the app."""
        url = self.base + path if path.startswith("/") else path
        for attempt in range(4):
            try:
                return self.page.goto(url, wait_until="load")
            except PlaywrightError as error:
                if attempt == 3 or not any(text in str(error) for text in INTERRUPTED):
                    raise
                self.settle()
                if self.page.url == url or "/accounts/login" in self.page.url:
                    return None
        return None

    def settle(self) -> None:
        """Until the page on screen has loaded (a navigation may still be under way)."""
        self.page.wait_for_load_state("load")
        wait_until(self.page, "document.readyState === 'complete'")

    def reload(self):
        for _attempt in range(3):
            try:
                return self.page.reload(wait_until="load")
            except PlaywrightError as error:
                if not any(text in str(error) for text in INTERRUPTED):
                    raise
                self.page.wait_for_load_state("load")
        return self.page.reload(wait_until="load")

    def evaluate(self, script: str, arg=None):
        """``page.evaluate`` that survives the page navigating under it (to a receipt)."""
        for _attempt in range(5):
            try:
                return self.page.evaluate(script, arg)
            except PlaywrightError as error:
                if not any(text in str(error) for text in INTERRUPTED):
                    raise
                self.page.wait_for_load_state("load")
        return self.page.evaluate(script, arg)

    def visit(self, path: str):
        """Navigate (online) as the signed-in village head: a browser killed before it wrote
        its cookies to disk comes back signed out, and its user signs in again. Waits for
        the page itself: a redirect may still be on its way when ``goto`` returns."""
        response = self.goto(path)
        self.page.wait_for_selector(f"{SIGNED_IN}, {SIGN_IN_FORM}", state="attached")
        if self.page.locator(SIGN_IN_FORM).count() and self.credentials:
            self.sign_in(*self.credentials)
            response = self.goto(path)
            self.page.wait_for_selector(SIGNED_IN, state="attached")
        return response

    def sign_in(self, username: str, password: str) -> None:
        self.credentials = (username, password)
        self.goto("/accounts/login?password=1")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("form button[type=submit].primary")
        self.page.wait_for_url(self.base + "/entry/")

    def wait_for_worker(self, timeout: float = 15) -> None:
        """Until a service worker is active and controls the page (reloading once if it
        activated after this page loaded and does not claim it)."""
        deadline = time.monotonic() + timeout
        reloaded = False
        while True:
            state = self.evaluate(WORKER_STATE)
            if state and state["active"] == "activated" and state["controlled"]:
                return
            if state and state["active"] == "activated" and not reloaded:
                self.reload()
                reloaded = True
                continue
            assert time.monotonic() < deadline, f"no active service worker: {state}"
            self.page.wait_for_timeout(100)

    def open_form(self, unit_id: int, form_code: str, period_code: str) -> str:
        """Open a form page; return the UUID the page carries."""
        self.goto(f"/entry/{unit_id}/{form_code}/{period_code}")
        self.page.wait_for_selector("form.entry")
        return self.page.input_value("form.entry input[name=uuid]")

    def fill(self, values: list[int]) -> None:
        inputs = self.page.locator("form.entry .field input:not([type=hidden])")
        assert inputs.count() == len(values), "the test form has one input per indicator"
        for index, value in enumerate(values):
            inputs.nth(index).fill(str(value))

    def submit(self, timeout: float = 10) -> str:
        """Press "Submit" on the open form; wait for "saved on this phone"; return the UUID."""
        key = self.page.input_value("form.entry input[name=uuid]")
        self.page.click("form.entry button.primary[value=submit]")
        self.wait_noticed(key, timeout)
        return key

    def wait_noticed(self, key: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while key not in self.noticed:
            assert time.monotonic() < deadline, (
                f"no 'saved on this phone' notice for {key} in {timeout} s "
                f"(page {self.page.url})")
            self.page.wait_for_timeout(25)

    # -- the outbox -------------------------------------------------------------------------

    def outbox(self) -> list[dict]:
        """The current owner's items: ``{uuid, state, message}``. Only on a signed-in page
        (elsewhere the page knows no owner and lists nothing)."""
        assert self.page.locator(SIGNED_IN).count() == 1, f"not signed in: {self.page.url}"
        return self.evaluate(OUTBOX_LIST)

    def flush(self) -> None:
        self.evaluate(OUTBOX_FLUSH)

    def count(self) -> int:
        """What ``#outbox-count`` says (0 when hidden)."""
        counter = self.page.locator("#outbox-count")
        if counter.count() == 0 or counter.get_attribute("hidden") is not None:
            return 0
        return int(counter.get_attribute("data-count"))

    def drain(self, timeout: float = 60) -> list[dict]:
        """Online, on the home page, send until nothing is queued; return what is left
        (items needing attention only, or the test fails)."""
        self.set_network("online")
        self.visit("/entry/")  # signed in: the list is the village head's
        deadline = time.monotonic() + timeout
        while True:
            self.flush()
            left = self.outbox()
            if all(item["state"] == "attention" for item in left):
                return left
            assert time.monotonic() < deadline, f"the outbox did not drain: {left}"
            self.page.wait_for_timeout(500)

    # -- the service worker -----------------------------------------------------------------

    def static_caches(self) -> list[str]:
        return self.evaluate(STATIC_CACHES)

    def upgrade_worker(self, timeout: float = 60) -> tuple[list[str], list[str]]:
        """Ship a new service worker, reload, and wait until it is the active one: its new
        ``dantoc-static-*`` cache is the only one left (the old is deleted on activate).
        The network must let ``GET /sw.js`` through. Returns (caches before, after).
        Chromium activates the new worker once the old one has no event in progress; on a
        loaded machine (both engines' suites, their servers and browsers on 2 cores) that
        took more than 30 s, hence the 60 s deadline."""
        before = self.static_caches()
        self.server.upgrade_service_worker()
        self.reload()
        deadline = time.monotonic() + timeout
        while True:
            after = self.static_caches()
            state = self.evaluate(WORKER_STATE)
            if (len(after) == 1 and after[0] not in before and state
                    and state["active"] == "activated" and not state["waiting"]
                    and not state["installing"]):
                return before, after
            assert time.monotonic() < deadline, (
                f"the new service worker did not activate: caches {before} → {after}, "
                f"registration {state}")
            self.page.wait_for_timeout(200)


# -- the oracle -----------------------------------------------------------------------------


def _uuid(value) -> str:
    return str(uuid.UUID(str(value)))


def server_submissions(server: PwaServer, user_id: int) -> list[tuple[str, int]]:
    """(client UUID, submission id) of every submission ``user_id`` created."""
    return [(_uuid(key), pk) for key, pk in server.rows(
        "SELECT client_uuid, id FROM submissions WHERE created_by_id = :user", user=user_id)]


def quarantined(server: PwaServer, user_id: int) -> set[str]:
    return {_uuid(key) for (key,) in server.rows(
        "SELECT client_uuid FROM submission_quarantine WHERE user_id = :user", user=user_id)}


def audit_problems(server: PwaServer, submission_ids: set[int]) -> list[str]:
    """Submitted versions of these submissions without exactly one ``submission.submit``
    audit row, and audit rows for versions that do not exist."""
    versions = Counter((pk, number) for pk, number in server.rows(
        "SELECT submission_id, number FROM submission_versions "
        "WHERE submitted_at IS NOT NULL") if pk in submission_ids)
    audited = Counter()
    for object_id, after in server.rows(
            "SELECT object_id, after FROM audit_events "
            "WHERE action = 'submission.submit' AND object_type = 'submissions'"):
        after = json.loads(after) if isinstance(after, str) else after
        if int(object_id) in submission_ids:
            audited[(int(object_id), int(after["version"]))] += 1
    problems = [f"submission {k[0]} version {k[1]}: {audited[k]} audit rows"
                for k in versions if audited[k] != 1]
    problems += [f"audit row for missing version {k}" for k in audited if k not in versions]
    return problems


def integrity_problems(server: PwaServer) -> list[str]:
    """``PRAGMA integrity_check`` on SQLite; amcheck over every B-tree index on PostgreSQL."""
    if is_sqlite():
        result = [row[0] for row in server.rows("PRAGMA integrity_check")]
        return [] if result == ["ok"] else result
    with server.engine.begin() as connection:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
        checked = connection.exec_driver_sql(
            "SELECT count(bt_index_check(c.oid, true)) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace").scalar()
    return [] if checked > 0 else ["amcheck checked no index"]


# -- drafts kept on the phone (docs/offline.md, "Drafts") -----------------------------------

#: In-page helpers of the storage dumps: ``req`` awaits an IndexedDB request, ``describe``
#: shows binary values and keys by their size or type, never their content.
STORAGE_HELPERS = """
  const req = r => new Promise((ok, ko) => { r.onsuccess = () => ok(r.result);
                                              r.onerror = () => ko(r.error); });
  const describe = v => {
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return `<${v.byteLength} bytes>`;
    if (typeof CryptoKey !== 'undefined' && v instanceof CryptoKey) return '<CryptoKey>';
    if (Array.isArray(v)) return v.map(describe);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, describe(x)]));
    }
    return v;
  };
"""

#: The outbox database as stored, whoever owns what: its version and every store's values
#: (binary values and keys described, not shown). Never creates the database.
OUTBOX_DUMP = """async () => {
  if (!(await indexedDB.databases()).some(d => d.name === 'dantoc-outbox')) return null;
""" + STORAGE_HELPERS + """  const db = await req(indexedDB.open('dantoc-outbox'));
  const out = {version: db.version, stores: {}};
  try {
    for (const name of db.objectStoreNames) {
      const s = db.transaction(name).objectStore(name);
      const [keys, values] = await Promise.all([req(s.getAllKeys()), req(s.getAll())]);
      out.stores[name] = keys.map((k, i) => [describe(k), describe(values[i])]);
    }
  } finally {
    db.close();  // never hold up an upgrade by the page or the worker
  }
  return out;
}"""


def outbox_dump(phone: Phone) -> dict | None:
    """``{version, stores: {name: [[key, value], …]}}`` of the phone's outbox database."""
    return phone.evaluate(OUTBOX_DUMP)


def local_drafts(phone: Phone) -> dict[str, dict]:
    """uuid → the draft kept on the phone (any owner's), from the ``drafts`` store."""
    dump = outbox_dump(phone) or {"stores": {}}
    return dict(dump["stores"].get("drafts", []))


def server_versions(server: PwaServer, key: str) -> list[tuple[int, dict, object]]:
    """(number, payload, submitted_at) of every version of the submission of client UUID
    ``key``, oldest first; [] when the server has no such submission."""
    ids = [pk for uuid_, pk in server.rows("SELECT client_uuid, id FROM submissions")
           if _uuid(uuid_) == _uuid(key)]
    if not ids:
        return []
    rows = server.rows("SELECT number, payload, submitted_at FROM submission_versions "
                       "WHERE submission_id = :id ORDER BY number", id=ids[0])
    return [(number, json.loads(payload) if isinstance(payload, str) else payload, at)
            for number, payload, at in rows]

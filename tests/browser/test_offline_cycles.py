"""Issue #6, "Done when": seeded random cycles of what happens to a village head's phone.

Each cycle is one action drawn with a seeded random generator: submit 1–3 forms (online, or
without a network: offline, "lie-fi" where every connection fails, a dead zone where they
hang), switch the network, reload, SIGKILL chromium and start it again on the same profile,
SIGKILL the gunicorn worker that is reading a POST, drop the server's answer after it
committed, let the queue drain, open forms so that they are cached, ship a new service
worker. Every action kind happens at least once a run. After every cycle, nothing the phone
said was "saved on this phone" may be missing from both the phone's outbox and the server.
At the end, online, the outbox drains and the oracle holds: the UUIDs the UI reported
saved are exactly the server's submissions (0 lost, 0 duplicated), each submitted version
has one audit row, nothing is left in the outbox, the database is sound.

``DANTOC_CYCLES`` (default 30) sets the number of cycles, ``DANTOC_CYCLES_SEED`` replays a
run: the seed is printed first and repeated in every failure message.
"""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from random import Random

import pytest

from tests.browser.conftest import OFFLINE_CYCLES
from tests.browser.offline import (
    Phone,
    audit_problems,
    integrity_problems,
    quarantined,
    saved_on_this_phone,
    server_submissions,
)
from tests.browser.proxy import DROP

pytestmark = pytest.mark.browser

SEED = int(os.environ.get("DANTOC_CYCLES_SEED") or secrets.randbits(32))
#: Seconds one cycle may take (a browser restart with a sign-in takes a few).
CYCLE_BUDGET = 40.0
#: action → weight; every action also runs once for sure.
ACTIONS = {"submit": 6, "toggle": 4, "reload": 2, "crash": 2, "kill_worker": 1, "drop": 1,
           "drain": 1, "upgrade": 1, "browse": 1}
#: network → weight when the network changes.
NETWORK_WEIGHTS = {"online": 3, "offline": 2, "lie-fi": 1, "dead-zone": 1, "uploads-fail": 1}
#: Raw read of the outbox's item keys, whoever owns them (nothing is created if absent).
RAW_ITEM_KEYS = """async () => {
  const names = (await indexedDB.databases()).map(d => d.name);
  if (!names.includes('dantoc-outbox')) return [];
  const db = await new Promise((ok, ko) => {
    const r = indexedDB.open('dantoc-outbox'); r.onsuccess = () => ok(r.result);
    r.onerror = () => ko(r.error);
  });
  try {
    const tx = db.transaction('items', 'readonly');
    return await new Promise((ok, ko) => {
      const r = tx.objectStore('items').getAllKeys(); r.onsuccess = () => ok(r.result);
      r.onerror = () => ko(r.error);
    });
  } finally { db.close(); }
}"""


#: For failure messages: the outbox's items (no bodies) and its deletion log.
RAW_OUTBOX = """async () => {
  const names = (await indexedDB.databases()).map(d => d.name);
  if (!names.includes('dantoc-outbox')) return null;
  const db = await new Promise((ok, ko) => {
    const r = indexedDB.open('dantoc-outbox'); r.onsuccess = () => ok(r.result);
    r.onerror = () => ko(r.error);
  });
  const all = name => new Promise((ok, ko) => {
    const r = db.transaction(name, 'readonly').objectStore(name).getAll();
    r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error);
  });
  try {
    const items = (await all('items')).map(({body, ...rest}) => rest);
    return {items, log: await all('log'), meta: await all('meta')};
  } finally { db.close(); }
}"""


def schedule(rng: Random, cycles: int) -> list[str]:
    """Every action once (when there are enough cycles), the rest drawn by weight."""
    names, weights = list(ACTIONS), list(ACTIONS.values())
    plan = names[:cycles] + rng.choices(names, weights, k=max(0, cycles - len(names)))
    rng.shuffle(plan)
    return plan


class Cycles:
    """The randomized run: its actions, and the invariant checked after each one."""

    def __init__(self, phone: Phone, server, proxy, rng: Random):
        self.phone, self.server, self.proxy, self.rng = phone, server, proxy, rng
        self.unit = server.seeded["unit_id"]
        self.head = server.seeded["head_id"]
        self.targets = iter(server.seeded["targets"])
        #: Forms opened online and not submitted yet.
        self.cached: list[str] = []
        self.done = Counter()

    # -- helpers --------------------------------------------------------------------------

    def _path(self) -> str:
        target = next(self.targets, None)
        assert target is not None, "the seeded targets ran out: seed more in the fixture"
        form, period = target
        return f"/entry/{self.unit}/{form}/{period}"

    def _values(self) -> list[int]:
        return [self.rng.randint(5, 400), self.rng.randint(0, 9)]

    def _open_online(self, path: str) -> str:
        """Open a form with a signal, whatever the network is now; come back to it after."""
        network = self.phone.network
        if network != "online":
            self.phone.goto("about:blank")  # leave the page: nothing of it may navigate
            self.phone.set_network("online")
        self.phone.visit(path)
        self.phone.page.wait_for_selector("form.entry")
        key = self.phone.page.input_value("form.entry input[name=uuid]")
        if network != "online":
            self.phone.set_network(network)
        return key

    def _on_origin(self) -> bool:
        return self.phone.page.url.startswith(self.phone.base)

    # -- actions --------------------------------------------------------------------------

    def submit(self) -> str:
        k = self.rng.randint(1, 3)
        for _ in range(k):
            if self.phone.network == "online":
                self._submit_online()
            else:
                self._submit_without_network()
        return f"{k} on {self.phone.network}"

    def _submit_online(self) -> None:
        self._open_online(self._path())
        self.phone.fill(self._values())
        key = self.phone.submit()
        # The server acknowledged it and the page that submitted shows the receipt.
        self.phone.page.wait_for_url(f"**/entry/receipt/{key}", timeout=20_000)

    def _submit_without_network(self) -> None:
        no_pages = self.phone.network in ("offline", "lie-fi")
        if self.cached and no_pages and self.rng.random() < 0.7:
            path = self.cached.pop(0)
            response = self.phone.goto(path)  # the worker answers from the user's cache
            assert response.from_service_worker and self.phone.page.locator(
                f"form.entry[action='{path}']").count() == 1, (
                f"{path}, opened online before, does not open {self.phone.network}")
        else:
            self._open_online(self._path())
        self.phone.fill(self._values())
        self.phone.submit()

    def toggle(self) -> str:
        others = {n: w for n, w in NETWORK_WEIGHTS.items() if n != self.phone.network}
        network = self.rng.choices(list(others), list(others.values()))[0]
        self.phone.set_network(network)
        return network

    def reload(self) -> str:
        if self.phone.network == "dead-zone":  # a page load there waits for ever: walk out
            self.phone.set_network(self.rng.choice(["online", "offline", "lie-fi",
                                                    "uploads-fail"]))
        if not self._on_origin():
            self._home()
            return "home"
        if self.phone.network in ("online", "uploads-fail"):
            self.phone.reload()
            if "/accounts/login" in self.phone.page.url:
                self.phone.visit("/entry/")
        else:
            self.phone.reload()
        return self.phone.page.url.removeprefix(self.phone.base)

    def _home(self) -> None:
        if self.phone.network in ("online", "uploads-fail"):
            self.phone.visit("/entry/")
        else:
            self.phone.goto("/entry/")  # the cached home, or the offline page

    def crash(self) -> str:
        self.phone.crash_and_relaunch()
        if self.phone.network != "dead-zone":
            self._home()
        return f"relaunched on {self.phone.network}"

    def kill_worker(self) -> str:
        """A POST is being read by a worker when that worker is SIGKILLed; then the phone
        moves on to the network it had."""
        network = self.phone.network
        self.phone.set_network("online")
        path = self._path()
        self._open_online(path)
        self.phone.fill(self._values())
        # Somewhere in the request line and headers (gunicorn is parsing) or in the body
        # (the app is reading the form): a submit is about 1.5 KB.
        threshold = self.rng.randint(100, 1200)
        mark = self.proxy.mark()
        self.proxy.set_mode("slow", methods={"POST"}, paths=[path])
        key = self.phone.submit()
        exchange = self.proxy.wait_for(
            lambda e: e.method == "POST" and e.path == path
            and (e.request_bytes >= threshold or e.outcome != "open"), timeout=20, after=mark)
        assert exchange.outcome == "open", f"the POST of {key} ended before the kill"
        pid = None
        deadline = time.monotonic() + 5
        while pid is None and time.monotonic() < deadline:
            pid = self.server.worker_serving(exchange.upstream_port)
            time.sleep(0.01)
        assert pid is not None, "no gunicorn worker holds the POST"
        self.server.kill_worker(pid)
        self.proxy.wait_for(lambda e: e is exchange and e.outcome != "open", timeout=10)
        self.server.wait_for_workers()
        self.phone.set_network(network)
        return f"worker {pid} killed after {exchange.request_bytes} bytes of {key}, {network}"

    def drop(self) -> str:
        """The server commits, the phone never hears back; then the phone moves on to the
        network it had."""
        network = self.phone.network
        self.phone.set_network("online")
        path = self._path()
        self._open_online(path)
        self.phone.fill(self._values())
        mark = self.proxy.mark()
        self.proxy.set_mode(DROP, methods={"POST"}, paths=[path])
        key = self.phone.submit()
        exchange = self.proxy.wait_for(
            lambda e: e.method == "POST" and e.path == path and e.outcome != "open",
            timeout=20, after=mark)
        assert exchange.outcome == "dropped", exchange
        assert key in {k for k, _ in server_submissions(self.server, self.head)}, (
            f"the server answered the POST of {key} without storing it")
        self.phone.set_network(network)
        return f"answer to {key} dropped, {network}"

    def drain(self) -> str:
        self.phone.set_network("online")
        self.phone.visit("/entry/")
        seconds = self.rng.uniform(0.5, 3)
        self.phone.page.wait_for_timeout(seconds * 1000)
        return f"{seconds:.1f} s"

    def upgrade(self) -> str:
        """A new worker is shipped and taken while online; the phone moves on after."""
        network = self.phone.network
        self.phone.set_network("online")
        if not self._on_origin() or "/accounts/login" in self.phone.page.url:
            self.phone.visit("/entry/")
        before, after = self.phone.upgrade_worker()
        self.phone.set_network(network)
        return f"{before} → {after}, {network}"

    def browse(self) -> str:
        """Open forms with a signal, to fill them later without one."""
        network = self.phone.network
        opened = []
        for _ in range(self.rng.randint(1, 2)):
            path = self._path()
            self._open_online(path)
            self.cached.append(path)
            opened.append(path)
        if network != "online":  # _open_online put the network back
            assert self.phone.network == network
        return ", ".join(opened)

    # -- the invariant ------------------------------------------------------------------------

    def nothing_lost_so_far(self) -> None:
        """Every UUID reported saved is in the phone's outbox or on the server. (Read the
        outbox first: an item leaves it only after the server has it.)"""
        if not self._on_origin() or self.phone.network == "dead-zone":
            return
        on_phone = {k.lower() for k in self.phone.evaluate(RAW_ITEM_KEYS)}
        on_server = {k for k, _ in server_submissions(self.server, self.head)}
        missing = set(self.phone.noticed) - on_phone - on_server
        assert not missing, (f"saved on the phone, then lost: {sorted(missing)}; "
                             f"outbox {self.phone.evaluate(RAW_OUTBOX)}")


def test_random_offline_cycles_lose_and_duplicate_nothing(offline_phone, offline_server,
                                                          offline_proxy):
    print(f"\nDANTOC_CYCLES_SEED={SEED} DANTOC_CYCLES={OFFLINE_CYCLES}")
    rng = Random(SEED)
    phone, server = offline_phone, offline_server
    run = Cycles(phone, server, offline_proxy, rng)
    started = time.monotonic()
    phone.sign_in(*server.sign_in_for("village_head"))
    phone.wait_for_worker()
    phone.visit("/entry/")  # now through the worker: the home is cached for this user
    for number, action in enumerate(schedule(rng, OFFLINE_CYCLES), start=1):
        cycle_started = time.monotonic()
        detail = getattr(run, action)()
        run.nothing_lost_so_far()
        took = time.monotonic() - cycle_started
        run.done[action] += 1
        print(f"cycle {number:3}: {action:<11} {took:5.1f} s  {detail}")
        assert took <= CYCLE_BUDGET, f"seed {SEED}: cycle {number} ({action}) took {took:.0f} s"

    left = phone.drain(timeout=90)
    if not left:
        assert phone.count() == 0, f"seed {SEED}: #outbox-count shows unsent items"
    saved = set(phone.noticed)
    rows = server_submissions(server, server.seeded["head_id"])
    on_server = [k for k, _ in rows]
    attention = {item["uuid"].lower() for item in left}
    print(f"cycles {dict(run.done)}; saved {len(saved)}, on the server {len(on_server)}, "
          f"needing attention {len(attention)}, workers killed {server.killed_workers}, "
          f"browser launches {phone.chromium.launches}, "
          f"{time.monotonic() - started:.0f} s in all")

    assert len(on_server) == len(set(on_server)), f"seed {SEED}: duplicated UUIDs"
    lost = saved - set(on_server) - attention
    assert lost == set(), f"seed {SEED}: lost {lost}; outbox {phone.evaluate(RAW_OUTBOX)}"
    assert set(on_server) - saved == set(), f"seed {SEED}: on the server, never shown saved"
    # No action of the run may be refused: every target is open and every answer valid.
    assert attention == set(), f"seed {SEED}: needing attention: {left}"
    assert attention <= quarantined(server, server.seeded["head_id"])
    assert audit_problems(server, {pk for _, pk in rows}) == [], f"seed {SEED}"
    assert integrity_problems(server) == [], f"seed {SEED}"
    assert set(phone.noticed.values()) == {saved_on_this_phone()}, f"seed {SEED}"
    assert phone.page_errors == [], f"seed {SEED}: uncaught page errors"
    assert all(run.done[action] for action in ACTIONS) or len(ACTIONS) > OFFLINE_CYCLES

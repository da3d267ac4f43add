"""Issue #6: a kill-switch worker can be shipped (OWASP: a bad worker intercepts every request
until it is replaced). With ``DANTOC_SW_KILL_SWITCH=1`` the server's /sw.js removes the
app's caches and itself; the outbox in IndexedDB survives and the page sends it alone.
"""

from __future__ import annotations

import time

import pytest

from tests.browser.offline import server_submissions

pytestmark = pytest.mark.browser

APP_STATE = """async () => ({
  registration: !!(await navigator.serviceWorker.getRegistration('/')),
  caches: (await caches.keys()).filter(k => k.startsWith('dantoc-')),
  registers: !!document.querySelector('script[data-sw]'),
})"""


def test_the_kill_switch_removes_the_worker_and_keeps_the_outbox(offline_phone, offline_server):
    phone, server = offline_phone, offline_server
    phone.sign_in(*server.sign_in_for("village_head"))
    phone.wait_for_worker()
    phone.goto("/entry/")
    form, period = server.seeded["targets"][0]
    phone.goto(f"/entry/{server.seeded['unit_id']}/{form}/{period}")
    phone.set_network("uploads-fail")
    phone.fill([64, 2])
    key = phone.submit()
    assert [i["uuid"] for i in phone.outbox()] == [key]
    assert phone.evaluate(APP_STATE)["caches"], "the app had no caches to remove"

    server.stop()
    server.start(DANTOC_SW_KILL_SWITCH="1")
    try:
        phone.reload()  # the browser checks /sw.js on a navigation and finds the kill switch
        deadline = time.monotonic() + 30
        while (state := phone.evaluate(APP_STATE)) != {"registration": False, "caches": [],
                                                         "registers": False}:
            assert time.monotonic() < deadline, f"the kill switch did not finish: {state}"
            phone.page.wait_for_timeout(200)
        assert [i["uuid"] for i in phone.outbox()] == [key]  # the outbox survived
        assert key not in {k for k, _ in server_submissions(server, server.seeded["head_id"])}

        assert phone.drain(timeout=60) == []  # sent by the page alone, no worker
        assert key in {k for k, _ in server_submissions(server, server.seeded["head_id"])}
        assert phone.evaluate(APP_STATE)["registration"] is False
    finally:
        server.stop()
        server.start()
    assert phone.page_errors == []

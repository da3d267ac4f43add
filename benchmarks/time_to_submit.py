#!/usr/bin/env python
"""Time to submit: opening the form (cold and warm) and from the tap on "Submit" to the
receipt on screen, under throttling of the page *and* its service worker.

Not a test. Builds a fresh SQLite database with the reference and demo data, serves it with
gunicorn (2 workers) on loopback, and starts Debian's chromium on a new profile for each run
(nothing cached, no worker yet). The network is throttled through the DevTools protocol on
every target, pages and the service worker alike (tests/browser/cdp.py: ``Target.
setAutoAttach`` with ``flatten``, then ``Network.emulateNetworkConditions`` on each target as
it attaches): latency is added to every request, bandwidth caps both directions. The CPU of
the page is slowed with ``Emulation.setCPUThrottlingRate``, as Lighthouse does. Per profile
and run:

1. sign in as the demo village head (an API request, not throttled, no page loaded);
2. throttle; **cold open**: the demo yearly questionnaire, the first page this phone loads
   (navigation start → ``load``, from the page's Navigation Timing);
3. once the worker is active, **warm open**: the same form again (served by the worker,
   network first);
4. fill it as a village head would (two ethnic groups in the grid, the usual answers);
5. **tap → receipt**: from the click on Submit to the receipt in the DOM, timed in the page;
6. delete the submission again (the benchmark owns its database).

Beside each figure, the physical floor under the same emulation: the requests on the
critical path, one after the other, each costing the profile's added latency plus its bytes
(as DevTools counted them) over the bandwidth. A figure below its floor means the throttling
missed something (the worker's own fetches, before this script attached to every target):
the script marks it, and it is a bug.

Usage: ``.venv/bin/python benchmarks/time_to_submit.py [--runs 5] [--cpu 4]``. Prints one
line per run and a summary table (medians) in Markdown, for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dantoc.demo.accounts import ACCOUNTS  # noqa: E402
from tests.browser.cdp import NETWORK_TARGETS, DevTools, Downloads  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 640}
YEARLY = "LC-DEMO-PT-NAM"


def kbps(value: float) -> float:
    """Kilobits per second → bytes per second, as DevTools counts them."""
    return value * 1000 / 8


#: name → (latency ms added per request, down B/s, up B/s, source) — budgets.md §3 presets
PROFILES = {
    "Lighthouse Slow 4G": (562.5, kbps(1474.56), kbps(675),
                           "Lighthouse mobileSlow4G, DevTools-throttled values (N6)"),
    "DevTools Slow 3G": (2000, kbps(400), kbps(400), "DevTools preset (N3)"),
    "2G (WPT)": (1300, kbps(35), kbps(32), "WebPageTest 2G: 35/32 kbps, 1300 ms (N8)"),
}
ANSWERS = {"Tổng số hộ": "126", "Số hộ nghèo": "31", "Số hộ cận nghèo": "12",
           "Số hộ được sử dụng điện": "120", "Số hộ có điện thoại": "110"}
GRID = {"03": ("231", "240"), "08": ("57", "60")}

#: Installed in the page before the tap: the click time and the moment the receipt appears.
TIMER = """() => {
  window.__tap = null; window.__shown = null;
  document.addEventListener('click', e => {
    if (e.target.closest('button[value=submit]')) window.__tap = performance.now();
  }, true);
  new MutationObserver(() => {
    if (!window.__shown && document.getElementById('receipt')) window.__shown = performance.now();
  }).observe(document.documentElement, {childList: true, subtree: true});
}"""
LOADED = "performance.getEntriesByType('navigation')[0].loadEventEnd"
WORKER_ACTIVE = """(async () => {
  const r = await navigator.serviceWorker.getRegistration('/');
  return !!(r && r.active && r.active.state === 'activated');
})()"""


def conditions(profile: str) -> dict:
    latency, down, up, _source = PROFILES[profile]
    return {"offline": False, "latency": latency, "downloadThroughput": down,
            "uploadThroughput": up}


def floor(profile: str, transfers) -> float:
    """Seconds the emulation cannot beat for these sequential requests: each one's added
    latency, plus its bytes down (status line, headers, body) and its body up over the
    bandwidth. DevTools charges the upload bandwidth for request bodies only: a real link
    also carries the request's headers (about 1 KB, 0.25 s on 2G), which this emulator, and
    so this floor, leave out."""
    latency, down, up, _source = PROFILES[profile]
    return sum(latency / 1000 + t.received / down + t.body / up for t in transfers)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=300)


@contextmanager
def server():
    """gunicorn over a new SQLite database with reference and demo data: (url, db path)."""
    with tempfile.TemporaryDirectory() as directory:
        db_path = Path(directory) / "bench.sqlite3"
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DANTOC_", "GUNICORN_"))}
        env.update(DANTOC_ENV="development", DANTOC_DATABASE_URL=f"sqlite:///{db_path}",
                   DANTOC_SECRET_KEY=secrets.token_hex(32), GUNICORN_BIND=f"127.0.0.1:{port}",
                   GUNICORN_WORKERS="2", GUNICORN_LOGLEVEL="warning")
        for command in (("db", "upgrade"), ("seed-reference",), ("seed-demo",)):
            _flask(env, *command)
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket",
             "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url)
            yield url, db_path
        finally:
            process.terminate()
            process.wait(30)


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def reset(db_path: Path) -> None:
    """Delete the submissions of the previous run (audit rows stay: they are append-only)."""
    with sqlite3.connect(db_path, timeout=30) as connection:
        for table in ("submission_values", "submission_versions", "submissions"):
            connection.execute(f"DELETE FROM {table}")  # noqa: S608


def sign_in(context, url: str) -> str:
    """Sign the demo village head in without loading a page; the form's URL."""
    username, password = ACCOUNTS["village_head"][:2]
    login = context.request.get(url + "/accounts/login?password=1").text()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    home = context.request.post(url + "/accounts/login?password=1", form={
        "csrf_token": token, "username": username, "password": password})
    assert home.url.endswith("/entry/"), home.url
    return url + re.search(rf'href="(/entry/\d+/{YEARLY}/\d+)"', home.text()).group(1)


@contextmanager
def phone(playwright, directory: Path):
    """Debian's chromium on a new profile, its DevTools port open; (context, port)."""
    profile = directory / "profile"
    port_file = profile / "DevToolsActivePort"
    profile.mkdir(parents=True)
    process = subprocess.Popen(
        [shutil.which("chromium"), *CHROMIUM_ARGS, f"--window-size={PHONE['width']},"
         f"{PHONE['height']}", "--lang=vi-VN", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(600):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        try:
            yield browser.contexts[0], port
        finally:
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _settled(downloads: Downloads, timeout: float = 10) -> list:
    """The network requests so far, once none is in flight (DevTools may report a request's
    end after the page has used its answer)."""
    deadline = time.monotonic() + timeout
    while downloads.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    return downloads.network()


def _opened(downloads: Downloads, page, url: str) -> tuple[float, list]:
    """Navigate; (seconds to the load event, the page's own network requests)."""
    downloads.reset()
    page.goto(url, wait_until="load")
    seconds = page.evaluate(LOADED) / 1000
    return seconds, [t for t in _settled(downloads) if t.target == "page"]


def settled(page) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-settling')")


def fill(page) -> None:
    """Two ethnic groups and the usual answers, as a village head fills the form."""
    for group, (male, female) in GRID.items():
        page.select_option("select[name^=add_]", group)
        page.click("button[value^='add:']")
        page.wait_for_selector(f"input[name$='_{group}_1']", timeout=120_000)
        settled(page)
        page.fill(f"input[name$='_{group}_0']", male)
        page.fill(f"input[name$='_{group}_1']", female)
    for label, value in ANSWERS.items():
        page.get_by_label(label).first.fill(value)
    page.locator("fieldset", has_text="cứng hóa").locator("input[value='1']").check()
    page.evaluate("document.activeElement && document.activeElement.blur()")  # last check
    page.wait_for_load_state("networkidle")


def measure(playwright, url: str, profile: str, cpu: float) -> dict:
    """One run on a new phone: sign in, throttle, cold open, warm open, fill, tap Submit."""
    with tempfile.TemporaryDirectory() as directory, phone(playwright, Path(directory)) as (
            context, port), DevTools(port) as devtools:
        context.set_default_timeout(180_000)
        page = context.pages[0] if context.pages else context.new_page()
        page.set_viewport_size(PHONE)
        form = sign_in(context, url)
        downloads = Downloads(devtools, conditions(profile), cpu)
        downloads.throttle(conditions(profile), cpu)  # in force before the navigation starts
        cold, cold_path = _opened(downloads, page, form)
        # The page and its deferred bundle, one after the other (the bundle is found in it).
        cold_floor = floor(profile, [t for t in cold_path if t.method == "GET"][:2])
        for _ in range(600):
            if page.evaluate(WORKER_ACTIVE):
                break
            page.wait_for_timeout(100)
        warm, _ = _opened(downloads, page, form)
        # The page through the worker: the worker's own fetch of it, throttled too.
        warm_floor = floor(profile, [t for t in _settled(downloads)
                                     if t.target == "service_worker" and t.url == form][:1])
        fill(page)
        page.evaluate(TIMER)
        downloads.reset()
        page.click("button[value=submit]")
        page.wait_for_selector("#receipt", timeout=180_000)
        tap, shown = page.evaluate("[window.__tap, window.__shown]")
        post = [t for t in _settled(downloads) if t.method == "POST"]
        return {"cold_s": cold, "cold_floor": cold_floor, "warm_s": warm,
                "warm_floor": warm_floor, "submit_s": (shown - tap) / 1000,
                "submit_floor": floor(profile, post[:1]),
                "first_visit_B": sum(t.received for t in cold_path),
                "body_B": post[0].sent if post else 0,
                "receipt_B": post[0].received if post else 0,
                "targets": sorted(set(downloads.sessions.values()) & set(NETWORK_TARGETS))}


#: A run within this fraction under its floor is at the floor: the floor lets a request
#: start once the previous answer has fully arrived, the browser starts the bundle as soon
#: as it parses its tag, a few bytes before the end of the page.
AT_FLOOR = 0.01


def _cell(values: list[float], floors: list[float]) -> str:
    """Median (min–max) and the floor; flagged when a run beat its floor."""
    below = any(v < f * (1 - AT_FLOOR) for v, f in zip(values, floors, strict=True))
    flag = " ⚠ below the floor: a bug" if below else ""
    return (f"**{statistics.median(values):.2f} s** ({min(values):.2f}–{max(values):.2f}) | "
            f"{statistics.median(floors):.2f} s{flag}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpu", type=float, default=4.0, help="CPU slowdown (Lighthouse: 4)")
    parser.add_argument("--profile", action="append", choices=list(PROFILES),
                        help="only these profiles (default: all)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    if shutil.which("chromium") is None:
        print("Debian's chromium is needed: apt install chromium", file=sys.stderr)
        return 2
    profiles = args.profile or list(PROFILES)
    results: dict[str, list[dict]] = {name: [] for name in profiles}
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    with server() as (url, db_path), sync_playwright() as playwright:
        for profile in profiles:
            for run in range(1, args.runs + 1):
                reset(db_path)
                r = measure(playwright, url, profile, args.cpu)
                results[profile].append(r)
                print(f"{profile:20} run {run}: cold open {r['cold_s']:.2f} s (floor "
                      f"{r['cold_floor']:.2f}), warm open {r['warm_s']:.2f} s (floor "
                      f"{r['warm_floor']:.2f}), tap→receipt {r['submit_s']:.2f} s (floor "
                      f"{r['submit_floor']:.2f}); page+bundle {r['first_visit_B']} B, submit "
                      f"{r['body_B']} B up / {r['receipt_B']} B down; throttled targets "
                      f"{', '.join(r['targets'])}", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} after the runs")
    print(f"\n| Profile | Cold open, median of {args.runs} (min–max) | floor | Warm open | "
          "floor | Tap → receipt | floor |")
    print("|---|---|---|---|---|---|---|")
    for profile, runs in results.items():
        cells = [_cell([r[f"{k}_s"] for r in runs], [r[f"{k}_floor"] for r in runs])
                 for k in ("cold", "warm", "submit")]
        print(f"| {profile} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

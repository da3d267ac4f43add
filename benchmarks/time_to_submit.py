#!/usr/bin/env python
"""Time to submit: from the tap on "Submit" to the receipt on screen, under throttling.

Not a test. Builds a fresh SQLite database with the reference and demo data, serves it with
gunicorn (2 workers) on loopback, and drives Debian's chromium through Playwright. The
network is throttled through the DevTools protocol (``Network.emulateNetworkConditions``:
latency is added to every request, bandwidth caps both directions) and the CPU slowed with
``Emulation.setCPUThrottlingRate``, as Lighthouse does. For each profile and run:

1. sign in as the demo village head (not throttled);
2. throttle, open the demo yearly questionnaire and fill it as a village head would (two
   ethnic groups in the grid, the usual answers);
3. tap Submit and measure, in the page, from the click to the receipt being in the DOM;
4. delete the submission again (the benchmark owns its database) for the next run.

Usage: ``.venv/bin/python benchmarks/time_to_submit.py [--runs 5] [--cpu 4]``. Prints one
line per run and a summary table (medians) in Markdown, for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
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

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 640}
FORM = "Phiếu thông tin thôn, bản hằng năm (mẫu)"


def kbps(value: float) -> float:
    """Kilobits per second → bytes per second, as DevTools counts them."""
    return value * 1000 / 8


#: name → (latency ms added per request, down B/s, up B/s, source)
PROFILES = {
    "Lighthouse Slow 4G": (562.5, kbps(1474.56), kbps(675),
                           "Lighthouse mobileSlow4G, DevTools-throttled values (N6)"),
    "DevTools Slow 3G": (2000, kbps(400), kbps(400), "DevTools preset (N3)"),
    "2G (WPT)": (1300, kbps(35), kbps(32), "WebPageTest 2G: 35/32 kbps, 1300 ms (N8)"),
}
#: Physical floors for a warm connection from budgets.md §3a (1.5 KB up, 0.5 KB down).
FLOORS = {"Lighthouse Slow 4G": "0.17 s (model); ≥ 0.56 s with DevTools' per-request latency",
          "DevTools Slow 3G": "≥ 2.0 s (the preset adds 2 s to every request)",
          "2G (WPT)": "1.8 s warm, 5.7 s cold (model)"}
ANSWERS = {"Tổng số hộ trong thôn": "126", "Số hộ nghèo": "31", "Số hộ cận nghèo": "12",
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


def sign_in(page, url: str) -> None:
    username, password = ACCOUNTS["village_head"][:2]
    page.goto(url + "/accounts/login?password=1")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit].primary")
    page.wait_for_url(url + "/entry/")


def throttle(cdp, profile: str, cpu: float) -> None:
    latency, down, up, _source = PROFILES[profile]
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": latency, "downloadThroughput": down,
        "uploadThroughput": up})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})


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


def measure(browser, url: str, profile: str, cpu: float) -> dict:
    """One run: sign in, throttle, open and fill the form, tap Submit, time the receipt."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="vi-VN", bypass_csp=True)
    context.set_default_timeout(120_000)
    page = context.new_page()
    try:
        sign_in(page, url)
        cdp = context.new_cdp_session(page)
        throttle(cdp, profile, cpu)
        started = time.perf_counter()
        page.click(f"text={FORM}")
        page.wait_for_selector("form.entry")
        opened = time.perf_counter() - started
        fill(page)
        page.evaluate(TIMER)
        with page.expect_request(lambda r: r.method == "POST" and "action=submit" in (
                r.post_data or "")) as sent:
            page.click("button[value=submit]")
        page.wait_for_selector("#receipt", timeout=120_000)
        tap, shown = page.evaluate("[window.__tap, window.__shown]")
        body = len(sent.value.post_data.encode())
        return {"submit_s": (shown - tap) / 1000, "open_s": opened, "body_B": body}
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpu", type=float, default=4.0, help="CPU slowdown (Lighthouse: 4)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        print("Debian's chromium is needed: apt install chromium", file=sys.stderr)
        return 2
    results: dict[str, list[dict]] = {name: [] for name in PROFILES}
    with server() as (url, db_path), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        for profile in PROFILES:
            for run in range(1, args.runs + 1):
                reset(db_path)
                result = measure(browser, url, profile, args.cpu)
                results[profile].append(result)
                print(f"{profile:20} run {run}: tap→receipt {result['submit_s']:.2f} s, "
                      f"form opened in {result['open_s']:.2f} s, submit body "
                      f"{result['body_B']} B", flush=True)
        browser.close()
    print()
    print(f"| Profile | Tap → receipt (median of {args.runs}) | Min–max | Physical floor |")
    print("|---|---|---|---|")
    for profile, runs in results.items():
        times = [r["submit_s"] for r in runs]
        print(f"| {profile} | {statistics.median(times):.2f} s | {min(times):.2f}–"
              f"{max(times):.2f} s | {FLOORS[profile]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

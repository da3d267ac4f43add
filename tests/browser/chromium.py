"""Debian's chromium started by the test itself on a persistent profile, so that the test can
SIGKILL it as a phone kills a browser, and start it again on the same profile (IndexedDB,
Cache Storage, the service worker and the session cookie survive, or not, as they would).

Playwright attaches over the DevTools protocol (``connect_over_cdp``); the profile's own
context (``browser.contexts[0]``) is the phone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import CHROMIUM_ARGS, PHONE

START_TIMEOUT = 30
#: A phone-sized window and a Vietnamese phone's language.
PHONE_ARGS = [f"--window-size={PHONE['width']},{PHONE['height']}", "--lang=vi-VN",
              "--accept-lang=vi-VN,vi"]


def executable() -> str:
    """Debian's chromium; its absence fails the test (never skipped, never downloaded)."""
    path = shutil.which("chromium")
    assert path is not None, ("Debian's chromium is missing: `apt-get install chromium` "
                              "(never `playwright install`)")
    return path


class Chromium:
    """One chromium process at a time on ``profile``, attached through ``browser_type``."""

    def __init__(self, browser_type, profile: Path, log: Path):
        self.browser_type, self.profile, self.log = browser_type, profile, log
        self.process: subprocess.Popen | None = None
        self.browser = None
        self.launches = 0
        #: the DevTools port of the running browser (tests/browser/cdp.py attaches to it)
        self.port: int | None = None

    def launch(self):
        """Start chromium and attach; return the profile's browser context."""
        assert self.process is None, "chromium is already running"
        self.profile.mkdir(parents=True, exist_ok=True)
        port_file = self.profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)  # a killed browser leaves its old one behind
        with self.log.open("a") as stream:
            self.process = subprocess.Popen(
                [executable(), *CHROMIUM_ARGS, *PHONE_ARGS, "--remote-debugging-port=0",
                 f"--user-data-dir={self.profile}", "about:blank"],
                stdout=stream, stderr=subprocess.STDOUT, start_new_session=True)
        port = self.port = self._devtools_port(port_file)
        self.browser = self.browser_type.connect_over_cdp(f"http://127.0.0.1:{port}")
        self.launches += 1
        return self.browser.contexts[0]

    def _devtools_port(self, port_file: Path) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"chromium exited with {self.process.returncode}: "
                                     f"{self.log.read_text()[-2000:]}")
            text = port_file.read_text() if port_file.exists() else ""
            if text.strip():
                return int(text.split()[0])
            time.sleep(0.05)
        raise AssertionError(f"chromium did not open its DevTools port in {START_TIMEOUT} s")

    def kill(self) -> None:
        """SIGKILL the browser and every process it started (its own process group), as a
        phone's task killer or a flat battery would; nothing gets to flush or say goodbye."""
        assert self.process is not None, "chromium is not running"
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None
        self.browser = None  # its connection died with it

    def close(self) -> None:
        """Stop chromium normally (end of a test)."""
        if self.process is None:
            return
        with contextlib.suppress(PlaywrightError):  # the browser may already be gone
            self.browser.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None
        self.browser = None

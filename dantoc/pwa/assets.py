"""The page bundle (/app.js) and the service worker (/sw.js), built from static/js/.

The bundle is htmx, the outbox module (``Outbox``, static/js/outbox.js) and the page code;
htmx and the page code run only in a document, so the service worker imports the same file
(``importScripts``) for its outbox instead of a pasted copy: one module, downloaded once.
The worker script itself is static/js/sw.js with its version and the bundle's URL.

The sources stay readable and commented; serving strips full-line comments and indentation
(nothing else, so no minifier is needed) and compresses once per content with Brotli quality
11 (gzip level 9 for clients without Brotli): the whole first visit must fit 30 KB
(budgets.md §6). Results are cached per file stamp and content hash.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import brotli

from ..paths import ROOT

JS = ROOT / "static" / "js"
HTMX = ROOT / "static" / "vendor" / "htmx.min.js"
OFFLINE_TEMPLATE = ROOT / "templates" / "pwa" / "offline.html"
_BLOCK_COMMENT = re.compile(r"^\s*/\*.*?\*/\s*$", re.MULTILINE | re.DOTALL)

#: The worker shipped by the kill switch: it removes the app's caches and itself, then
#: reloads its pages (which, with the switch on, register no worker). IndexedDB, and so the
#: outbox, is left alone: the page sends it by itself.
KILL_SWITCH = """self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', e => e.waitUntil((async () => {
for (const k of await caches.keys()) {
if (k.startsWith('dantoc-static-') || k.startsWith('dantoc-user-')) await caches.delete(k);
}
await self.registration.unregister();
for (const c of await self.clients.matchAll({type: 'window'})) c.navigate(c.url);
})()));
"""


@dataclass(frozen=True)
class Asset:
    """A text asset, its short content hash, and its pre-compressed bodies."""

    text: str
    digest: str

    def encoded(self, accepted) -> tuple[bytes, str | None]:
        """(body, its ``Content-Encoding``) in the best encoding the client ``accepted``
        (werkzeug's ``accept_encodings``): Brotli 11, else gzip 9, else plain (None)."""
        if accepted["br"]:
            return _compressed(self.text)[0], "br"
        if accepted["gzip"]:
            return _compressed(self.text)[1], "gzip"
        return self.body, None

    @property
    def body(self) -> bytes:
        return self.text.encode()


def strip(source: str) -> str:
    """Our own sources without full-line comments, indentation or blank lines.

    Only whole lines go, so a ``//`` inside a string or a regular expression is never cut;
    line breaks stay, so automatic semicolon insertion sees the code as written.
    """
    source = _BLOCK_COMMENT.sub("", source)
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def _stamp(*paths: Path) -> tuple:
    return tuple((str(p), st.st_mtime_ns, st.st_size) for p in paths for st in [p.stat()])


#: The bundle's files are looked at (three stat calls) at most this often: every page names
#: the bundle's version, and an edited file is seen within a second.
RECHECK_SECONDS = 1.0
_bundle_checked: list = [float("-inf"), ()]


@lru_cache(maxsize=8)
def _compressed(text: str) -> tuple[bytes, bytes]:
    data = text.encode()
    return brotli.compress(data, quality=11), gzip.compress(data, compresslevel=9, mtime=0)


@lru_cache(maxsize=4)
def _bundle(stamp: tuple) -> Asset:
    outbox = strip((JS / "outbox.js").read_text("utf-8"))
    page = strip((JS / "page.js").read_text("utf-8"))
    # htmx stays the global it is (in a document); `Outbox` is a global of pages and of the
    # worker that imports this file; the page code keeps its names to itself.
    text = ("if (self.document) {\n" + HTMX.read_text("utf-8").rstrip() + "\n}\n" + outbox
            + "if (self.document) (() => {\n" + page + "})();\n")
    return Asset(text, hashlib.sha256(text.encode()).hexdigest()[:12])


def bundle() -> Asset:
    """htmx, the outbox module, the page code (see the module docstring)."""
    moment = time.monotonic()
    if moment - _bundle_checked[0] >= RECHECK_SECONDS:
        _bundle_checked[:] = [moment, _stamp(HTMX, JS / "outbox.js", JS / "page.js")]
    return _bundle(_bundle_checked[1])


@lru_cache(maxsize=4)
def _worker_source(stamp: tuple) -> str:
    return strip((JS / "sw.js").read_text("utf-8"))


def worker(bundle_url: str, extra: str = "") -> Asset:
    """The service worker with its version and the bundle's URL filled in.

    The version changes with the worker's code, the bundle, the offline page's template and
    ``extra`` (the content of ``DANTOC_SW_VERSION_FILE``): any of them gives a new worker,
    whose new static cache replaces the old one.
    """
    source = _worker_source(_stamp(JS / "sw.js"))
    offline = OFFLINE_TEMPLATE.read_bytes()
    version = hashlib.sha256(b"\0".join((
        source.encode(), bundle().digest.encode(), offline, extra.encode()))).hexdigest()[:12]
    text = (f"const VERSION = '{version}';\nconst BUNDLE = {json.dumps(bundle_url)};\n"
            "(() => {\n" + source + "})();\n")
    return Asset(text, version)


def kill_switch() -> Asset:
    return Asset(KILL_SWITCH, "kill")

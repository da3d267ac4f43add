"""Issue 16, valid pages: the Nu HTML checker (vnu, from the npm package ``vnu-jar``, run
with the system's Java) finds no error on the public pages and the village head's pages, and
every public page has a meta description.

The pages are rendered by the test client, written to files and checked in one vnu run
(starting the checker takes seconds). A missing Java or vnu.jar fails the test with what to
install: it is never skipped.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid

import pytest

from dantoc import ROOT
from tests.factories_submissions import entry_fixture, post  # noqa: F401  (the fixture)

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
PUBLIC = ("/", "/accounts/login", "/accounts/activate", "/offline")


def _checker() -> list[str]:
    java = shutil.which("java")
    if java is None:
        pytest.fail("Java is missing: the Nu HTML checker needs it "
                    "(Debian: apt install default-jre-headless).", pytrace=False)
    if not VNU.exists():
        pytest.fail(f"{VNU} is missing: run scripts/build-assets (npm ci installs vnu-jar).",
                    pytrace=False)
    return [java, "-jar", str(VNU), "--format", "json", "--errors-only"]


def vnu_errors(pages: dict[str, str], directory) -> list[str]:
    """The checker's errors over ``pages`` (name → HTML), as "name: line: message"."""
    files = {}
    for n, (name, html) in enumerate(pages.items()):
        path = directory / f"page{n}.html"
        path.write_text(html, encoding="utf-8")
        files[path.name] = name
    done = subprocess.run([*_checker(), *map(str, (directory / f"page{n}.html"
                                                   for n in range(len(pages))))],
                          capture_output=True, text=True, timeout=300, check=False)
    messages = json.loads(done.stderr or "{}").get("messages", [])
    assert done.returncode in (0, 1) and "messages" in (done.stderr or ""), done.stderr
    return [f"{files.get(m.get('url', '').rsplit('/', 1)[-1], m.get('url'))}: "
            f"{m.get('lastLine')}: {m['message']}" for m in messages if m.get("type") == "error"]


def _get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_public_and_village_head_pages_are_valid_html(app, entry, tmp_path):
    anonymous = app.test_client()
    pages = {path: _get(anonymous, path) for path in PUBLIC}
    for path, html in pages.items():
        assert re.search(r'<meta name="description" content="[^"]{40,}">', html), path

    client = entry.client
    pages |= {f"village head {path}": _get(client, path)
              for path in ("/entry/", entry.url, "/outbox", "/accounts/me")}
    key = str(uuid.uuid4())
    response = post(client, entry.url, entry.answers(), key=key)
    assert response.status_code in (201, 303)
    pages["village head receipt"] = _get(client, f"/entry/receipt/{key}")
    pages["village head form with a check message"] = client.post(
        entry.url, data={**entry.answers(), entry.name("households"): "x",
                         "uuid": str(uuid.uuid4()), "base_version": "0",
                         "action": "submit"}).get_data(as_text=True)

    assert vnu_errors(pages, tmp_path) == []


def test_the_checker_finds_errors(tmp_path):
    """The check can fail: an hx- attribute and a data URL with a space are errors."""
    page = ('<!doctype html><html lang="vi"><head><title>x</title>'
            '<link rel="icon" href="data:image/svg+xml,<svg a b>"></head>'
            '<body hx-boost="true"></body></html>')
    errors = vnu_errors({"bad": page}, tmp_path)
    assert any("hx-boost" in e for e in errors) and any("href" in e for e in errors), errors

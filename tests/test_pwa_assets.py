"""The offline app's files: the page bundle (/app.js), the service worker (/sw.js) and its
kill switch, the offline page (docs/offline.md)."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from dantoc import ROOT
from dantoc.pwa import assets
from tests.factories import make_user

BR = {"Accept-Encoding": "br, gzip"}


def _worker(client, **headers):
    response = client.get("/sw.js", headers=headers)
    return response, response.get_data(as_text=True)


def _version(body: str) -> str:
    return re.search(r"const VERSION = '([0-9a-f]{12})'", body).group(1)


def test_service_worker_headers(client):
    response, body = _worker(client)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "'dantoc-static-' + VERSION" in body


def test_service_worker_imports_the_outbox_from_the_page_bundle_not_a_copy(client):
    """One outbox module (issue 15 item 5): the worker imports the bundle the page loaded."""
    _response, body = _worker(client)
    script = re.search(r'src="(/app\.js\?v=[0-9a-f]+)"', client.get("/").get_data(as_text=True))
    assert f'const BUNDLE = "{script.group(1)}";' in body
    assert "importScripts(BUNDLE);" in body
    assert "= Outbox;" in body
    assert "dantoc-outbox" not in body and "indexedDB" not in body  # no pasted outbox code
    outbox = assets.strip((ROOT / "static" / "js" / "outbox.js").read_text("utf-8"))
    assert assets.bundle().text.count(outbox) == 1


def test_service_worker_installs_from_the_http_cache_and_precaches_no_page(client):
    """A first visit downloads no page twice and nothing the page did not need (issue 17)."""
    _response, body = _worker(client)
    assert "c.add(new Request(BUNDLE, {cache: 'force-cache'}))" in body
    assert "addAll" not in body and "manifest" not in body


def test_bundle_runs_htmx_and_the_page_code_only_in_a_document(client):
    text = assets.bundle().text
    htmx = (ROOT / "static" / "vendor" / "htmx.min.js").read_text("utf-8").rstrip()
    assert text.startswith("if (self.document) {\n" + htmx + "\n}\nconst Outbox = (() => {")
    assert "\nif (self.document) (() => {\nconst {" in text


def test_service_worker_stays_no_cache_for_a_signed_in_user(app, login):
    client = login(make_user("village_head"))
    response, _body = _worker(client)
    assert response.headers["Cache-Control"] == "no-cache"


def test_service_worker_version_follows_the_version_file(app, client, tmp_path):
    first = _version(_worker(client)[1])
    assert _version(_worker(client)[1]) == first  # stable while nothing changes
    version_file = tmp_path / "sw-version"
    app.config["SW_VERSION_FILE"] = str(version_file)
    version_file.write_text("release 1")
    one = _version(_worker(client)[1])
    version_file.write_text("release 2")  # read on every request, no restart
    two = _version(_worker(client)[1])
    assert len({first, one, two}) == 3
    version_file.write_text("release 1")
    assert _version(_worker(client)[1]) == one


def test_kill_switch_serves_a_worker_that_removes_itself_but_not_the_outbox(app, client):
    app.config["SW_KILL_SWITCH"] = True
    response, body = _worker(client)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "registration.unregister()" in body
    assert "'dantoc-static-'" in body and "'dantoc-user-'" in body and "caches.delete" in body
    assert "c.navigate(c.url)" in body  # reloads its pages
    assert "indexedDB" not in body and "fetch" not in body  # the outbox is left alone
    assert "importScripts" not in body
    page = client.get("/").get_data(as_text=True)
    assert "data-sw=" not in page  # pages stop registering a worker


def test_pages_register_the_worker_when_the_switch_is_off(client):
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<script src="/app\.js\?v=[0-9a-f]{12}" defer data-sw="/sw\.js">', page)


def test_bundle_is_precompressed_with_brotli_and_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    url = re.search(r'src="(/app\.js\?v=[0-9a-f]+)"', page).group(1)
    response = client.get(url, headers=BR)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in response.headers["Vary"]
    raw = response.get_data()
    assert raw == brotli.compress(assets.bundle().body, quality=11)  # quality 11, not on the fly
    text = brotli.decompress(raw).decode()
    htmx = (ROOT / "static" / "vendor" / "htmx.min.js").read_text("utf-8").rstrip()
    assert htmx in text
    for code in ("dantocOutbox", "navigator.locks", "'Idempotency-Key'", "htmx:confirm",
                 "/session/state"):
        assert code in text, code
    assert "\n// " not in text  # comment lines are stripped


def test_bundle_without_brotli_is_gzip_then_plain(client):
    url = "/app.js?v=" + assets.bundle().digest
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == assets.bundle().body
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.get_data() == assets.bundle().body


def test_bundle_keeps_immutable_caching_for_a_signed_in_user(app, login):
    client = login(make_user("village_head"))
    response = client.get("/app.js?v=" + assets.bundle().digest, headers=BR)
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("query", ["", "?v=000000000000"])
def test_bundle_under_another_version_is_not_cached_for_long(client, query):
    response = client.get("/app.js" + query, headers=BR)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"


def test_strip_keeps_code_and_drops_comment_lines():
    source = ("// a comment\nconst a = '//not a comment';\n  /* block\n  comment */\n"
              "    if (a) b();  // kept: not a whole line\n\n")
    assert assets.strip(source) == ("const a = '//not a comment';\n"
                                    "if (a) b();  // kept: not a whole line\n")


def test_offline_page_is_public_and_holds_no_user_data(app, login):
    client = login(make_user("village_head", username="private-name"))
    response = client.get("/offline")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "private-name" not in html
    assert "csrf" not in html.lower() and "dantoc-user" not in html
    assert 'data-user=""' in html  # the outbox shows the phone's last user, from the phone
    assert 'id="outbox-count"' in html and "/app.js?v=" in html


def test_signed_in_pages_carry_the_owner_and_the_outbox_header(app, login):
    client = login(make_user("village_head"))
    html = client.get("/outbox").get_data(as_text=True)
    owner = re.search(r'<meta name="dantoc-user" content="([0-9a-f]{24})">', html).group(1)
    assert f'data-user="{owner}"' in html
    for element in ('id="outbox-count" data-count="0" hidden', 'id="outbox-send"',
                    'id="outbox-notice" role="status" data-hx-preserve="true" data-text="',
                    'id="storage-warning"', '<dialog id="signout-warning"',
                    'id="outbox-list"', 'href="/outbox"'):
        assert element in html, element


def test_signed_out_pages_carry_no_owner(client):
    html = client.get("/").get_data(as_text=True)
    assert "dantoc-user" not in html and 'id="outbox"' not in html


def test_unchanged_worker_answers_304_to_an_update_check(client):
    first = client.get("/sw.js", headers=BR)
    again = client.get("/sw.js", headers={**BR, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    plain = client.get("/sw.js", headers={"If-None-Match": first.headers["ETag"]})
    assert plain.status_code == 200  # another encoding, another entity


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    from dantoc.config import from_environment

    assert from_environment(str(tmp_path))["SW_KILL_SWITCH"] is False
    monkeypatch.setenv("DANTOC_SW_VERSION_FILE", str(tmp_path / "v"))
    monkeypatch.setenv("DANTOC_SW_KILL_SWITCH", "1")
    config = from_environment(str(tmp_path))
    assert config["SW_VERSION_FILE"] == str(tmp_path / "v") and config["SW_KILL_SWITCH"] is True


def test_storage_warning_is_only_for_those_who_report(app, login):
    client = login(make_user("province_officer"))
    html = client.get("/outbox").get_data(as_text=True)
    assert 'id="storage-warning"' not in html and 'id="outbox-count"' in html

"""The browser tests' fault-injecting proxy (tests/browser/proxy.py) does what its modes say:
otherwise a passing offline test could prove nothing."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.proxy import DROP, Proxy, Rule


class _Upstream(BaseHTTPRequestHandler):
    """Answers GET with "hello" and POST with the body it read; one request a connection,
    like gunicorn's sync workers."""

    posts: list[bytes] = []

    def do_GET(self):
        self._answer(b"hello")

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.posts.append(body)
        self._answer(b"got " + body)

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy():
    _Upstream.posts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    with Proxy(server.server_address[1], slow_chunk=8, slow_delay=0.02) as running:
        yield running
    server.shutdown()
    server.server_close()


def _request(proxy: Proxy, method: str = "GET", body: bytes | None = None,
             timeout: float = 5) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=timeout)
    try:
        connection.request(method, "/x", body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_pass_forwards_both_ways(proxy):
    assert _request(proxy) == (200, b"hello")
    assert _request(proxy, "POST", b"a=1") == (200, b"got a=1")
    proxy.wait_for(lambda e: e.method == "POST" and e.outcome != "open", timeout=2)
    assert [(e.method, e.path, e.outcome) for e in proxy.exchanges] == [
        ("GET", "/x", "passed"), ("POST", "/x", "passed")]


def test_refuse_resets_every_connection(proxy):
    proxy.set_mode("refuse")
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        _request(proxy, "POST", b"a=1")
    assert _Upstream.posts == []
    assert proxy.exchanges[-1].outcome == "refused"


def test_refuse_may_spare_page_loads(proxy):
    proxy.set_mode("refuse", methods={"POST"})
    assert _request(proxy) == (200, b"hello")
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        _request(proxy, "POST", b"a=1")
    assert _Upstream.posts == []
    # The client may read the GET's answer before the proxy closes its record of it.
    proxy.wait_for(lambda e: e.method == "GET" and e.outcome != "open", 5)
    assert [(e.method, e.outcome) for e in proxy.exchanges] == [
        ("GET", "passed"), ("POST", "refused")]


def test_a_mode_may_apply_to_some_paths_only(proxy):
    proxy.set_mode("refuse", methods={"POST"}, paths=["/y", "/z"])
    assert _request(proxy, "POST", b"a=3") == (200, b"got a=3")  # path /x passes
    assert _Upstream.posts == [b"a=3"]


def test_rules_combine_first_match_wins(proxy):
    proxy.set_rules(Rule.of("refuse", methods={"POST"}, paths=["/x"]), Rule.of("slow"))
    started = time.monotonic()
    assert _request(proxy) == (200, b"hello")  # slow
    assert time.monotonic() - started > 0.1
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        _request(proxy, "POST", b"a=4")
    assert _Upstream.posts == []
    assert [e.mode for e in proxy.exchanges] == ["slow", "refuse"]


def test_blackhole_never_answers_until_the_mode_changes(proxy):
    proxy.set_mode("blackhole")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(100)
        proxy.set_mode("pass")  # the phone's socket dies with the old network
        sock.settimeout(2)
        with pytest.raises(ConnectionResetError):
            assert sock.recv(100) == b""
    assert _request(proxy) == (200, b"hello")


def test_drop_lets_the_server_commit_and_the_client_never_hears(proxy):
    proxy.set_mode(DROP, methods={"POST"})
    assert _request(proxy) == (200, b"hello")  # other methods pass
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        _request(proxy, "POST", b"a=2")
    assert _Upstream.posts == [b"a=2"]  # the server got it
    dropped = proxy.wait_for(lambda e: e.outcome == "dropped", timeout=2)
    assert dropped.method == "POST" and dropped.response_bytes > 0


def test_slow_trickles_and_exposes_the_upstream_port(proxy):
    proxy.set_mode("slow", methods={"POST"})
    mark = proxy.mark()
    started = time.monotonic()
    assert _request(proxy, "POST", b"b=" + b"9" * 30) == (200, b"got b=" + b"9" * 30)
    # ≥ 90 request bytes and ≥ 60 response bytes in 8-byte steps of 20 ms
    assert time.monotonic() - started > 0.3
    (exchange,) = proxy.since(mark)
    assert exchange.upstream_port
    proxy.wait_for(lambda e: e is exchange and e.outcome == "passed", timeout=2)
    started = time.monotonic()
    assert _request(proxy) == (200, b"hello")
    assert time.monotonic() - started < 0.3  # GET is not slowed


def test_slow_response_sends_the_request_at_once(proxy):
    proxy.set_mode("slow-response")
    started = time.monotonic()
    assert _request(proxy, "POST", b"c=" + b"1" * 60) == (200, b"got c=" + b"1" * 60)
    assert time.monotonic() - started > 0.2
    assert _Upstream.posts == [b"c=" + b"1" * 60]


def test_unknown_mode_is_refused(proxy):
    with pytest.raises(ValueError):
        proxy.set_mode("flaky")
    with pytest.raises(ValueError):
        proxy.set_rules(Rule("pass"), Rule("flaky"))

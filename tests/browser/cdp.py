"""The DevTools protocol on every target of a chromium: pages *and* service workers.

Playwright's CDP sessions reach pages only, and a service worker's own fetches (its script,
its precache, the copies it keeps) never show in a page's Network domain. This client
speaks to the browser's DevTools socket itself, asks for ``Target.setAutoAttach`` with
``flatten`` (every target, its child targets too, each on a session of its own) and, for
each new target before it runs (``waitForDebuggerOnStart``), enables the Network domain,
applies the same network conditions, then lets it run. :class:`Downloads` counts what went
over the network on all of them; the benchmark (benchmarks/time_to_submit.py) and the page
budget test (tests/browser/test_first_visit_budget.py) share it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import urllib.request
from dataclasses import dataclass, field

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

#: Target types that do network work of their own.
NETWORK_TARGETS = ("page", "iframe", "worker", "shared_worker", "service_worker")


class DevTools:
    """One websocket to the browser target; commands by id, events to listeners (called on
    the reader thread: they must not wait for answers, only :meth:`post`). A context
    manager: ``with DevTools(port) as devtools: ...``."""

    def __init__(self, port: int):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version") as r:
            self.url = json.load(r)["webSocketDebuggerUrl"]
        self._stack = contextlib.ExitStack()
        self._ids = itertools.count(1)
        self._answers: dict[int, tuple[threading.Event, list]] = {}
        self._lock = threading.Lock()
        self.listeners: list = []
        self.socket = None

    def __enter__(self) -> DevTools:
        self.socket = self._stack.enter_context(connect(self.url, max_size=None,
                                                        open_timeout=30))
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stack.close()

    def _read(self) -> None:
        # Ends when the socket closes (the browser quit, or __exit__).
        with contextlib.suppress(ConnectionClosed):
            for raw in self.socket:
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        waiting = self._answers.pop(message["id"], None)
                    if waiting:
                        waiting[1].append(message)
                        waiting[0].set()
                    continue
                for listener in list(self.listeners):
                    listener(message["method"], message.get("params", {}),
                             message.get("sessionId"))

    def post(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        """Send a command without waiting for its answer (commands of one session are run
        in the order sent)."""
        number = next(self._ids)
        message = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        with self._lock:
            self._answers.setdefault(number, (threading.Event(), []))
        self.socket.send(json.dumps(message))
        return number

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        """Send a command and return its result (raises on a protocol error)."""
        number = next(self._ids)
        event, box = threading.Event(), []
        with self._lock:
            self._answers[number] = (event, box)
        message = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        if not event.wait(timeout):
            raise TimeoutError(f"no answer to {method} in {timeout} s")
        answer = box[0]
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})


@dataclass
class Transfer:
    """One request as a target saw it."""

    target: str  # the target's type: page, service_worker …
    url: str
    method: str
    status: int = 0
    #: bytes received over the network: status line, headers and the (compressed) body
    received: int = 0
    #: bytes sent: the request's headers (as the browser sent them, when known) and body
    sent: int = 0
    #: the request body's bytes (what DevTools' upload throttling charges)
    body: int = 0
    #: answered without the network: HTTP cache, the service worker, a prefetch
    cached: bool = False
    finished: bool = False
    failed: str = ""


@dataclass
class Downloads:
    """Attach to every target of the browser behind ``devtools`` and record its requests.

    ``conditions`` are ``Network.emulateNetworkConditions`` parameters applied to each
    target as it attaches (and to those attached already), so a service worker is as slow
    as the page it serves.
    """

    devtools: DevTools
    conditions: dict | None = None
    cpu_rate: float | None = None
    transfers: dict[tuple[str, str], Transfer] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # session id → target type
    #: session id → target id: a target reached twice (through the browser and through the
    #: page that started it) reports each request on both sessions; counted once.
    targets: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._headers: dict[tuple[str, str], int] = {}
        self.devtools.listeners.append(self._on_event)
        self.devtools.send("Target.setAutoAttach", {
            "autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True})
        # Targets that existed before: attach to each network-doing one.
        for info in self.devtools.send("Target.getTargets")["targetInfos"]:
            if info["type"] in NETWORK_TARGETS and not info.get("attached"):
                with contextlib.suppress(RuntimeError):
                    self.devtools.send("Target.attachToTarget",
                                       {"targetId": info["targetId"], "flatten": True})

    # -- set-up of each target ------------------------------------------------------------

    def _prepare(self, session: str, kind: str) -> None:
        post = self.devtools.post
        if kind in NETWORK_TARGETS:
            post("Network.enable", {}, session)
            post("Network.setCacheDisabled", {"cacheDisabled": False}, session)
            if self.conditions:
                post("Network.emulateNetworkConditions", self.conditions, session)
            if self.cpu_rate and kind in ("page", "iframe"):
                post("Emulation.setCPUThrottlingRate", {"rate": self.cpu_rate}, session)
        # Child targets of this one (dedicated workers, out-of-process frames).
        post("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True,
                                      "flatten": True}, session)
        post("Runtime.runIfWaitingForDebugger", {}, session)

    def throttle(self, conditions: dict | None, cpu_rate: float | None = None) -> None:
        """Change the network conditions of every attached target and of those to come."""
        self.conditions, self.cpu_rate = conditions, cpu_rate
        off = {"offline": False, "latency": 0, "downloadThroughput": -1,
               "uploadThroughput": -1}
        for session, kind in list(self.sessions.items()):
            if kind in NETWORK_TARGETS:
                with contextlib.suppress(RuntimeError, TimeoutError):
                    self.devtools.send("Network.emulateNetworkConditions",
                                       conditions or off, session)
                if kind in ("page", "iframe"):
                    with contextlib.suppress(RuntimeError, TimeoutError):
                        self.devtools.send("Emulation.setCPUThrottlingRate",
                                           {"rate": cpu_rate or 1}, session)

    # -- events ----------------------------------------------------------------------------

    def _on_event(self, method: str, params: dict, session: str | None) -> None:
        if method == "Target.attachedToTarget":
            info = params["targetInfo"]
            self.sessions[params["sessionId"]] = info["type"]
            seen = info["targetId"] in self.targets.values()
            self.targets[params["sessionId"]] = info["targetId"]
            if seen:  # already watched through another session: only let it run
                self.devtools.post("Runtime.runIfWaitingForDebugger", {}, params["sessionId"])
            else:
                self._prepare(params["sessionId"], info["type"])
            return
        if method == "Target.detachedFromTarget":
            self.sessions.pop(params.get("sessionId"), None)
            return
        if not method.startswith("Network.") or session is None:
            return
        key = (self.targets.get(session, session), params.get("requestId", ""))
        with self._lock:
            if method == "Network.requestWillBeSent":
                request = params["request"]
                previous = self.transfers.get(key)
                if previous is not None and params.get("redirectResponse"):
                    # A redirect reuses the request id: keep the hop as a transfer of its own.
                    self.transfers[(key[0], key[1] + f"@{len(self.transfers)}")] = previous
                    previous.finished = True
                    previous.status = params["redirectResponse"]["status"]
                    previous.received = int(
                        params["redirectResponse"].get("encodedDataLength") or 0)
                body = sum(len(e.get("bytes", "")) * 3 // 4
                           for e in request.get("postDataEntries", []))
                self.transfers[key] = Transfer(
                    self.sessions.get(session, "?"), request["url"], request["method"],
                    sent=self._headers.pop(key, 0) + body, body=body)
            elif method == "Network.requestWillBeSentExtraInfo":
                # The headers as sent; this event may come before or after the request's.
                size = sum(len(k) + len(str(v)) + 4 for k, v in params["headers"].items())
                if key in self.transfers:
                    self.transfers[key].sent += size
                else:
                    self._headers[key] = size
            elif key in self.transfers:
                transfer = self.transfers[key]
                if method == "Network.responseReceived":
                    response = params["response"]
                    transfer.status = response["status"]
                    transfer.cached = transfer.cached or bool(
                        response.get("fromDiskCache") or response.get("fromServiceWorker")
                        or response.get("fromPrefetchCache")
                        or response.get("fromEarlyHints"))
                elif method == "Network.requestServedFromCache":
                    transfer.cached = True
                elif method == "Network.loadingFinished":
                    transfer.finished = True
                    transfer.received = int(params.get("encodedDataLength") or 0)
                elif method == "Network.loadingFailed":
                    transfer.finished = True
                    transfer.failed = params.get("errorText", "failed")

    # -- results ---------------------------------------------------------------------------

    def network(self) -> list[Transfer]:
        """The requests that went over the network (not answered by a cache or the worker),
        in the order they started."""
        with self._lock:
            return [t for t in self.transfers.values()
                    if not t.cached and not t.url.startswith(("data:", "blob:"))
                    and (t.received > 0 or t.failed)]

    def reset(self) -> None:
        with self._lock:
            self.transfers.clear()

    def pending(self) -> list[Transfer]:
        with self._lock:
            return [t for t in self.transfers.values() if not t.finished
                    and not t.url.startswith(("data:", "blob:"))]

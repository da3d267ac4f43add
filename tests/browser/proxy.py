"""A loopback TCP proxy between the browser and gunicorn, whose faults the tests switch.

``page.route()`` does not see what a service worker sends, and ``context.set_offline`` only
tells the browser it is offline; the real network between the phone and the server is this
proxy (reliability.md §4.3). Modes:

- ``pass``: bytes go both ways untouched;
- ``refuse``: every new connection is reset at once (no route to the server);
- ``blackhole``: connections are accepted and never answered (a dead 2G cell);
- ``drop-response-after-upstream-reply``: the request reaches the server, the proxy reads
  the server's whole response, then resets the phone's connection without sending a byte of
  it: the server committed, the phone never hears back (the ODK duplicate case);
- ``slow``: both directions trickle in small pieces (a slow uplink), which keeps a POST in
  a gunicorn worker long enough to kill that worker in the middle of it;
- ``slow-response``: the request goes at once, the answer trickles (the server has decided,
  the phone learns it late).

A mode may be limited to some request methods and path prefixes (``methods={"POST"},
paths=["/entry/"]``); other requests then pass (uploads refused while pages load, say).
:meth:`Proxy.set_rules` combines several such rules (first match wins). Switching resets
every open connection, as a phone moving between cells loses its sockets, so a connection
lives its whole life under one setting.

gunicorn's sync workers answer one request per connection and close it, so the end of the
server's response is the end of its stream; the proxy does not parse HTTP beyond the
request line, which it records for the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MODES = ("pass", "refuse", "blackhole", "drop-response-after-upstream-reply", "slow",
         "slow-response")
DROP = "drop-response-after-upstream-reply"
#: Enough to read a request line (the method and path are all the proxy looks at).
HEAD_LIMIT = 8192


@dataclass(frozen=True)
class Rule:
    """A mode for the requests of some methods (None: all) under some path prefixes
    (None: all)."""

    mode: str
    methods: frozenset | None = None
    paths: tuple | None = None

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown proxy mode {self.mode!r}")

    @classmethod
    def of(cls, mode: str, methods: Iterable[str] | None = None,
           paths: Iterable[str] | None = None) -> Rule:
        return cls(mode, frozenset(m.upper() for m in methods) if methods else None,
                   tuple(paths) if paths else None)

    def matches(self, method: str, path: str) -> bool:
        return ((self.methods is None or method in self.methods)
                and (self.paths is None or path.startswith(self.paths)))


@dataclass(eq=False)
class Exchange:
    """One client connection and what happened to it."""

    #: The mode applied (the first matching rule's, else the default), once known.
    mode: str
    #: The rules in force when the connection came.
    rules: tuple[Rule, ...] = ()
    method: str = ""
    path: str = ""
    #: Local port of the proxy's socket to the server: finds the worker serving it.
    upstream_port: int | None = None
    request_bytes: int = 0
    response_bytes: int = 0
    #: "open", "passed", "refused", "blackholed", "dropped", "upstream-closed", "reset"
    outcome: str = "open"
    started: float = field(default_factory=time.monotonic)


class Proxy:
    """The proxy, run by an asyncio loop in a daemon thread; every method is thread-safe."""

    def __init__(self, upstream_port: int, *, host: str = "127.0.0.1",
                 slow_chunk: int = 64, slow_delay: float = 0.1):
        self.upstream = (host, upstream_port)
        self.host = host
        self.port: int | None = None
        self.slow_chunk, self.slow_delay = slow_chunk, slow_delay
        self._rules: tuple[Rule, ...] = ()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.exchanges: list[Exchange] = []
        self._open: dict[Exchange, list[asyncio.StreamWriter]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="proxy",
                                        daemon=True)
        self._server: asyncio.base_events.Server | None = None

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> Proxy:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._handle, self.host, 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close():
            self._server.close()
            self._reset_all()
            await self._server.wait_closed()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._call(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- control from the test ----------------------------------------------------------

    def set_mode(self, mode: str, methods: Iterable[str] | None = None,
                 paths: Iterable[str] | None = None) -> None:
        """One mode for new connections (others pass when filtered); reset the open ones.

        :param methods: the request methods the mode applies to; None for all. With a
            filter, ``refuse`` and ``blackhole`` read the request line first.
        :param paths: path prefixes the mode applies to; None for all.
        """
        self.set_rules(Rule.of(mode, methods, paths))

    def set_rules(self, *rules: Rule) -> None:
        """Several rules, the first matching one applies (else ``pass``); resets the open
        connections."""
        self._call(self._switch(tuple(r for r in rules if r != Rule("pass"))))

    def wait_for(self, predicate: Callable[[Exchange], bool], timeout: float,
                 after: int = 0) -> Exchange:
        """The first exchange (past or future, from position ``after``) matching
        ``predicate``.

        :raise TimeoutError: when none matched in ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((e for e in self.exchanges[after:] if predicate(e)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no proxy exchange matched in time")
                self._changed.wait(left)

    def mark(self) -> int:
        """A position in the exchange log: pass it to :meth:`since`."""
        with self._lock:
            return len(self.exchanges)

    def since(self, mark: int) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges[mark:])

    # -- internals ----------------------------------------------------------------------

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def _record(self, exchange: Exchange, **changes) -> None:
        with self._changed:
            for name, value in changes.items():
                setattr(exchange, name, value)
            self._changed.notify_all()

    async def _switch(self, rules: tuple[Rule, ...]) -> None:
        """Change the rules and reset the open connections in one step of the loop, so no
        connection made under the new rules is reset by mistake."""
        if rules != self._rules:
            self._rules = rules
            self._reset_all()

    def _finish(self, exchange: Exchange, outcome: str, **changes) -> None:
        """Record how an exchange ended, unless a reset ended it first."""
        if exchange.outcome == "open":
            self._record(exchange, outcome=outcome, **changes)

    def _reset_all(self) -> None:
        for exchange, writers in list(self._open.items()):
            for writer in writers:
                _reset(writer)
            self._finish(exchange, "reset")
        self._open.clear()

    async def _refuse_or_swallow(self, exchange: Exchange, reader) -> None:
        if exchange.mode == "refuse":
            self._finish(exchange, "refused")
            return
        self._finish(exchange, "blackholed")
        while await reader.read(65536):  # swallow until the phone or a reset ends it
            pass

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        rules = self._rules
        everything = len(rules) == 1 and rules[0].methods is None and rules[0].paths is None
        exchange = Exchange(rules[0].mode if everything else "pass", rules)
        with self._changed:
            self.exchanges.append(exchange)
            self._changed.notify_all()
        self._open[exchange] = [writer]
        try:
            await self._serve(exchange, reader, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            self._finish(exchange, "reset")
        finally:
            for each in self._open.pop(exchange, ()):
                _reset(each)

    async def _serve(self, exchange: Exchange, reader, writer) -> None:
        unfiltered = len(exchange.rules) == 1 and exchange.rules[0] == Rule(exchange.mode)
        if unfiltered and exchange.mode in ("refuse", "blackhole"):
            await self._refuse_or_swallow(exchange, reader)  # without reading a byte
            return
        head = await _read_head(reader)
        if not head:
            self._finish(exchange, "passed")
            return
        method, _sp, rest = head.partition(b" ")
        self._record(exchange, method=method.decode("latin-1").upper(),
                     path=rest.split(b" ", 1)[0].decode("latin-1"))
        rule = next((r for r in exchange.rules if r.matches(exchange.method, exchange.path)),
                    None)
        mode = rule.mode if rule else "pass"
        self._record(exchange, mode=mode)
        if mode in ("refuse", "blackhole"):
            await self._refuse_or_swallow(exchange, reader)
            return
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        if exchange not in self._open:  # reset while connecting
            _reset(up_writer)
            return
        self._open[exchange].append(up_writer)
        self._record(exchange, upstream_port=up_writer.get_extra_info("sockname")[1])
        slow = mode == "slow"
        upload = asyncio.create_task(self._pipe(exchange, head, reader, up_writer, slow, True))
        slow = mode in ("slow", "slow-response")
        if mode == DROP:
            await self._drop(exchange, up_reader, upload)
            return
        await self._pipe(exchange, b"", up_reader, writer, slow, False)
        upload.cancel()
        self._finish(exchange, "passed" if exchange.response_bytes else "upstream-closed")
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()

    async def _drop(self, exchange: Exchange, up_reader, upload: asyncio.Task) -> None:
        """Read the server's whole answer, then reset the phone without sending it."""
        received = 0
        while chunk := await up_reader.read(65536):
            received += len(chunk)
        upload.cancel()
        self._finish(exchange, "dropped" if received else "upstream-closed",
                     response_bytes=received)

    async def _pipe(self, exchange: Exchange, first: bytes, source, sink, slow: bool,
                    upload: bool) -> None:
        """Copy ``first`` then ``source`` into ``sink`` (trickled when ``slow``).

        The upload runs as a task: when the server goes away (a killed worker) it just ends,
        and the download side sees the server's end and closes the phone's connection.
        """
        data = first
        counter = "request_bytes" if upload else "response_bytes"
        try:
            while True:
                if data:
                    await self._write(exchange, counter, sink, data, slow)
                data = await source.read(65536)
                if not data:
                    break
            if upload:
                sink.write_eof()
        except (ConnectionError, OSError, RuntimeError):
            if not upload:
                raise

    async def _write(self, exchange: Exchange, counter: str, sink, data: bytes,
                     slow: bool) -> None:
        """Write ``data``, counting the bytes as they go (so a test can act mid-request)."""
        step = self.slow_chunk if slow else len(data)
        for start in range(0, len(data), step):
            if slow:
                await asyncio.sleep(self.slow_delay)
            piece = data[start:start + step]
            sink.write(piece)
            await sink.drain()
            self._record(exchange, **{counter: getattr(exchange, counter) + len(piece)})


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    """The request's first line (with its line end), or what came before the stream ended."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as partial:
        return partial.partial
    except asyncio.LimitOverrunError:
        return await reader.read(HEAD_LIMIT)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a vanished network path looks to a phone."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()

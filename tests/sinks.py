"""Local stand-ins for the outside world, started by the tests: an eSMS-like HTTP gateway
and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: What the sink answers for a RequestId it already accepted (eSMS keeps them 24 hours);
#: the tests configure SMS_ALREADY_SENT_CODES with it.
DUPLICATE = "124"


@dataclass
class SmsSink:
    """Accepts eSMS ``SendMultipleMessage_V4_post_json`` requests like eSMS: CodeResult 100
    and an SMSID, a second request with the same RequestId refused as a duplicate.

    ``mode``: ``ok``; ``refuse`` (CodeResult 99); ``hang`` (answers after ``delay`` s, too
    late); ``slow`` (accepts, then answers after ``delay`` s)."""

    mode: str = "ok"
    delay: float = 3.0
    accepted: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)

    def start(self) -> str:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                sink.requests.append(body)
                sink.received.set()
                if sink.mode == "hang":
                    time.sleep(sink.delay)
                    answer = {"CodeResult": "100", "SMSID": "late"}
                elif sink.mode == "refuse":
                    answer = {"CodeResult": "99", "ErrorMessage": "refused"}
                elif any(m["RequestId"] == body["RequestId"] for m in sink.accepted):
                    answer = {"CodeResult": DUPLICATE, "ErrorMessage": "duplicate RequestId"}
                else:
                    sink.accepted.append(body)
                    answer = {"CodeResult": "100", "SMSID": f"sms-{len(sink.accepted)}"}
                    if sink.mode == "slow":
                        time.sleep(sink.delay)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client is gone (timed out, killed)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/MainService.svc/json/" \
               "SendMultipleMessage_V4_post_json/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MailSink:
    """An SMTP server on a free local port that keeps what it receives; it can refuse the
    recipients (``refuse``) or answer the end of DATA late (``delay``)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        #: Seconds to wait before answering the final dot (a lost answer: RFC 1047).
        self.delay = 0.0
        #: Refuse every recipient (550), or every message at the final dot (554).
        self.refuse = self.refuse_data = False
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if sink.refuse:
                    return "550 5.1.1 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                import asyncio
                import email
                from email import policy

                sink.messages.append((envelope.rcpt_tos, email.message_from_bytes(
                    envelope.content, policy=policy.default)))
                if sink.refuse_data:
                    sink.messages.pop()
                    return "554 5.6.0 message refused"
                if sink.delay:
                    await asyncio.sleep(sink.delay)
                return "250 OK"

        import socket

        with socket.socket() as probe:  # a free port (aiosmtpd checks it by connecting)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> int:
        self.controller.start()
        return self.port

    def stop(self) -> None:
        self.controller.stop()

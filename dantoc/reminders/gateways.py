"""Where messages leave the system: an SMS gateway over HTTP and e-mail over SMTP.

Each ``send`` returns the provider's message id or raises :class:`SendFailed`. Just before
the message leaves (the HTTP request; SMTP's DATA, once the server has taken the sender and
the recipient) it calls ``hand_over()``, which records that moment in the database: a worker
that dies after it leaves a message that may have gone out (docs/reminders.md). The same
``key`` is sent on every attempt: eSMS's ``RequestId`` (refused a second time within 24
hours) and the e-mail's Message-ID.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app


class SendFailed(Exception):
    """The gateway did not take the message (timeout, refusal); worth trying again later.

    ``maybe_sent``: the connection broke after the message was handed over and before the
    gateway answered (RFC 1047's window): it may have been accepted."""

    def __init__(self, text: str, maybe_sent: bool = False):
        super().__init__(text)
        self.maybe_sent = maybe_sent


class NotConfigured(SendFailed):
    """No gateway for this channel is configured: the message waits."""


@dataclass(frozen=True)
class Outgoing:
    """One message for a gateway: to whom, the text, and the key that makes a resend of it
    recognisable (the subject only for e-mail)."""

    recipient: str
    body: str
    key: str
    subject: str | None = None
    #: An earlier attempt handed it over already (a gateway's "duplicate" then means "sent").
    handed_before: bool = False


class EsmsGateway:
    """eSMS.vn's REST API, ``SendMultipleMessage_V4_post_json`` (developers.esms.vn):
    one JSON POST per SMS, answered ``{"CodeResult": "100", "SMSID": …}`` when accepted.
    ``SmsType`` 2 is a customer-care message from the registered brand name; ``IsUnicode``
    1 keeps the Vietnamese diacritics."""

    def __init__(self, config):
        self.url = config["SMS_GATEWAY_URL"]
        self.api_key = config["SMS_API_KEY"]
        self.secret = config["SMS_SECRET_KEY"]
        self.brandname = config["SMS_BRANDNAME"]
        self.timeout = config["REMINDER_SEND_TIMEOUT"]
        self.already_sent = {c.strip() for c in config["SMS_ALREADY_SENT_CODES"].split(",")
                             if c.strip()}

    def send(self, message: Outgoing, hand_over: Callable[[], None] = lambda: None) -> str:
        payload = {"ApiKey": self.api_key, "SecretKey": self.secret, "Phone": message.recipient,
                   "Content": message.body, "Brandname": self.brandname, "SmsType": "2",
                   "IsUnicode": "1", "RequestId": message.key[:50]}
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's setting)
            self.url, data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        hand_over()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:  # an answer: eSMS did not take it
            raise SendFailed(f"eSMS: {error}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as error:
            raise SendFailed(f"eSMS: {error}", maybe_sent=True) from None
        code = str(answer.get("CodeResult", ""))
        if code == "100":
            return str(answer.get("SMSID") or message.key)
        if code in self.already_sent:
            if message.handed_before:  # our own earlier attempt went through
                return message.key
            raise SendFailed(f"eSMS CodeResult {code}: RequestId used before by another "
                             "message (another installation on this account?)")
        raise SendFailed(f"eSMS CodeResult {code}: {answer.get('ErrorMessage', '')}"[:480])


class SmtpMailer:
    """E-mail to officers over SMTP (STARTTLS and login when configured)."""

    def __init__(self, config):
        self.host, self.port = config["SMTP_HOST"], config["SMTP_PORT"]
        self.starttls = config["SMTP_STARTTLS"]
        self.username, self.password = config["SMTP_USERNAME"], config["SMTP_PASSWORD"]
        self.sender = config["MAIL_FROM"]
        self.timeout = config["REMINDER_SEND_TIMEOUT"]

    def send(self, message: Outgoing, hand_over: Callable[[], None] = lambda: None) -> str:
        mail = EmailMessage()
        mail["From"], mail["To"] = self.sender, message.recipient
        mail["Subject"] = message.subject or ""
        domain = self.sender.rpartition("@")[2] or "localhost"
        mail["Message-ID"] = f"<{message.key}@{domain}>"  # the same on a retry
        mail.set_content(message.body)
        handed = accepted = False
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.ehlo_or_helo_if_needed()
                _expect(smtp.mail(self.sender), (250,))
                _expect(smtp.rcpt(message.recipient), (250, 251))
                hand_over()  # recorded: from here on, a crash may leave it sent
                handed = True
                _expect(smtp.data(mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))),
                        (250,))
                accepted = True
        except smtplib.SMTPResponseException as error:  # the server answered: not taken
            if not accepted:  # (after acceptance, only QUIT went wrong)
                raise SendFailed(f"SMTP: {error.smtp_code} {error.smtp_error!r}"[:480]) from None
        except (smtplib.SMTPException, OSError) as error:  # no answer after DATA: unknown
            if not accepted:
                raise SendFailed(f"SMTP: {error}"[:480], maybe_sent=handed) from None
        return mail["Message-ID"]


def _expect(answer: tuple[int, bytes], codes: tuple[int, ...]) -> None:
    code, text = answer
    if code not in codes:
        raise smtplib.SMTPResponseException(code, text)


class Unconfigured:
    def __init__(self, channel: str):
        self.channel = channel

    def send(self, message: Outgoing, hand_over: Callable[[], None] = lambda: None) -> str:
        raise NotConfigured(f"no {self.channel} gateway configured")


def for_channel(channel: str):
    """The configured sender for ``sms`` or ``email``."""
    config = current_app.config
    if channel == "sms":
        return EsmsGateway(config) if config.get("SMS_GATEWAY") == "esms" else Unconfigured(
            "sms")
    return SmtpMailer(config) if config.get("SMTP_HOST") else Unconfigured("email")

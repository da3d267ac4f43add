"""Where messages leave the system: an SMS gateway over HTTP and e-mail over SMTP.

Each ``send`` returns the provider's message id or raises :class:`SendFailed`; it must be
safe to call again with the same ``key`` after a crash (the idempotency key: eSMS's
``RequestId``, which eSMS refuses to send twice within 24 hours; the e-mail's Message-ID).
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app


class SendFailed(Exception):
    """The gateway did not take the message (timeout, refusal); worth trying again later."""


class NotConfigured(SendFailed):
    """No gateway for this channel is configured: the message waits."""


@dataclass(frozen=True)
class Outgoing:
    recipient: str
    body: str
    key: str
    subject: str | None = None


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

    def send(self, message: Outgoing) -> str:
        payload = {"ApiKey": self.api_key, "SecretKey": self.secret, "Phone": message.recipient,
                   "Content": message.body, "Brandname": self.brandname, "SmsType": "2",
                   "IsUnicode": "1", "RequestId": message.key[:50]}
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's setting)
            self.url, data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as error:
            raise SendFailed(f"eSMS: {error}") from None
        code = str(answer.get("CodeResult", ""))
        if code == "100":
            return str(answer.get("SMSID") or message.key)
        if code in self.already_sent:
            return message.key
        raise SendFailed(f"eSMS CodeResult {code}: {answer.get('ErrorMessage', '')}"[:480])


class SmtpMailer:
    """E-mail to officers over SMTP (STARTTLS and login when configured)."""

    def __init__(self, config):
        self.host, self.port = config["SMTP_HOST"], config["SMTP_PORT"]
        self.starttls = config["SMTP_STARTTLS"]
        self.username, self.password = config["SMTP_USERNAME"], config["SMTP_PASSWORD"]
        self.sender = config["MAIL_FROM"]
        self.timeout = config["REMINDER_SEND_TIMEOUT"]

    def send(self, message: Outgoing) -> str:
        mail = EmailMessage()
        mail["From"], mail["To"] = self.sender, message.recipient
        mail["Subject"] = message.subject or ""
        domain = self.sender.rpartition("@")[2] or "localhost"
        mail["Message-ID"] = f"<{message.key}@{domain}>"  # the same on a retry
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as error:
            raise SendFailed(f"SMTP: {error}"[:480]) from None
        return mail["Message-ID"]


class Unconfigured:
    def __init__(self, channel: str):
        self.channel = channel

    def send(self, message: Outgoing) -> str:
        raise NotConfigured(f"no {self.channel} gateway configured")


def for_channel(channel: str):
    """The configured sender for ``sms`` or ``email``."""
    config = current_app.config
    if channel == "sms":
        return EsmsGateway(config) if config.get("SMS_GATEWAY") == "esms" else Unconfigured(
            "sms")
    return SmtpMailer(config) if config.get("SMTP_HOST") else Unconfigured("email")

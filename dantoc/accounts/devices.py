"""Village-head enrolment: one-time activation codes, enrolled devices, PIN unlock.

Threat model and limits: ``docs/security.md`` ("Village heads: device + PIN").
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import clock
from ..audit import services as audit
from ..extensions import db
from .models import ActivationCode, Device, User
from .passwords import hash_password, needs_rehash, sha256, verify_password
from .services import record_rehash, revoke_all_devices

#: No 0/O, 1/I/L: easy to read aloud and to type on a phone. 12 of 31 symbols ≈ 59 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


class ActivationError(Exception):
    """An activation code that cannot be used; ``reason`` is invalid, used or expired."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for timezone-aware columns: they are UTC."""
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _new_code(user: User, issued_by: User | None) -> tuple[ActivationCode, str]:
    _retire_codes(user)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    hours = current_app.config.get("ACTIVATION_HOURS", 72)
    row = ActivationCode(user_id=user.id, code_hash=sha256(code), created_at=clock.now(),
                         issued_by_id=getattr(issued_by, "id", None),
                         expires_at=clock.now() + timedelta(hours=hours))
    db.session.add(row)
    db.session.flush()
    return row, format_code(code)


def issue_activation(user: User, issued_by: User | None) -> tuple[ActivationCode, str]:
    """A new activation code for ``user``; earlier unused codes stop working.

    :return: the stored row and the plain code, which is shown once and never stored.
    """
    row, code = _new_code(user, issued_by)
    audit.record("user.activation_issue", user, after={"activation_id": row.id,
                                                        "expires_at": row.expires_at})
    return row, code


def _retire_codes(user: User) -> None:
    db.session.execute(sa.update(ActivationCode).where(
        ActivationCode.user_id == user.id, ActivationCode.used_at.is_(None)).values(
        used_at=clock.now()))


def find_code(code: str) -> ActivationCode:
    """The usable activation row for ``code``.

    :raise ActivationError: when the code is unknown, already used or expired.
    """
    row = db.session.scalar(sa.select(ActivationCode).where(
        ActivationCode.code_hash == sha256(normalise_code(code))))
    if row is None or not row.user.active:
        raise ActivationError("invalid")
    if row.used_at is not None:
        raise ActivationError("used")
    if aware(row.expires_at) <= clock.now():
        raise ActivationError("expired")
    return row


def activate(code: str, pin: str, device_name: str) -> tuple[Device, str]:
    """Use an activation code: enrol this phone with a PIN.

    :return: the device and its secret token (for the cookie; only its hash is stored).
    :raise ActivationError: when the code cannot be used.
    """
    row = find_code(code)
    row.used_at = clock.now()
    token = secrets.token_urlsafe(32)
    device = Device(user_id=row.user_id, name=device_name[:120] or "?", failed_pins=0,
                    token_hash=sha256(token), pin_hash=hash_password(pin),
                    created_at=clock.now(), last_seen_at=clock.now())
    db.session.add(device)
    db.session.flush()
    audit.record("device.enrol", device, actor=row.user,
                 after={"user_id": row.user_id, "name": device.name, "activation_id": row.id})
    return device, token


def device_for_token(token: str | None) -> Device | None:
    """The active device whose secret is ``token``, if its user is active too."""
    if not token:
        return None
    device = db.session.scalar(sa.select(Device).where(Device.token_hash == sha256(token)))
    if device is None or not device.active or not device.user.active:
        return None
    return device


def check_pin(device: Device, pin: str) -> bool:
    """Verify the PIN; count failures and revoke the device at the limit (audited)."""
    if verify_password(device.pin_hash, pin):
        if needs_rehash(device.pin_hash):
            device.pin_hash = hash_password(pin)
            record_rehash(device, "pin", actor=device.user)
        device.failed_pins = 0
        device.last_seen_at = clock.now()
        db.session.flush()
        audit.record("auth.unlock", device, actor=device.user)
        return True
    device.failed_pins += 1
    limit = current_app.config.get("PIN_MAX_FAILURES", 10)
    if device.failed_pins >= limit:
        device.revoked_at = clock.now()
    db.session.flush()
    audit.record("auth.pin_failed", device, actor=device.user,
                 after={"failed_pins": device.failed_pins, "revoked": not device.active})
    return False


def revoke_device(device: Device) -> Device:
    """Revoke one device: its sessions end at once and its PIN stops working."""
    device.revoked_at = clock.now()
    db.session.flush()
    audit.record("device.revoke", device, after={"user_id": device.user_id,
                                                 "name": device.name})
    return device


def reset_pin(user: User, issued_by: User | None) -> tuple[ActivationCode, str]:
    """Revoke every device of ``user`` and issue a new activation code (one audit row)."""
    revoked = revoke_all_devices(user)
    row, code = _new_code(user, issued_by)
    audit.record("user.pin_reset", user, after={"devices_revoked": revoked,
                                                 "activation_id": row.id})
    return row, code


def device_cookie_name() -> str:
    """``__Host-`` prefixed (Secure, path /, no domain) wherever cookies are Secure."""
    return "__Host-device" if current_app.config.get("SESSION_COOKIE_SECURE") else "device"


def set_device_cookie(response, token: str) -> None:
    days = current_app.config.get("DEVICE_DAYS", 180)
    response.set_cookie(device_cookie_name(), token, max_age=days * 86400, path="/",
                        httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))


def forget_device_cookie(response) -> None:
    response.delete_cookie(device_cookie_name(), path="/", httponly=True, samesite="Lax",
                           secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))

"""Write translations. Every write is audited in the same transaction; views commit."""

from __future__ import annotations

import sqlalchemy as sa
from flask import after_this_request, has_request_context, request
from flask_login import current_user

from ..audit import services as audit
from ..extensions import db
from . import content
from .models import ContentTranslation, InterfaceTranslation
from .selection import PICKED, forget, registry

FIELDS = ("locale", "text")


def _actor_id() -> int | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def set_content(object_type: str, object_id: int, field: str, locale: str, text: str,
                source_text: str | None) -> tuple[ContentTranslation, bool]:
    """Create or replace one content translation; returns (row, changed?).

    :param source_text: the Vietnamese text that was translated (for "outdated" checks).
    :raise content.NotTranslatable: for an unregistered object type or field.
    :raise ValueError: for an empty text or the Vietnamese locale.
    """
    if field not in content.fields_of(object_type):
        raise content.NotTranslatable(f"{object_type}.{field}")
    if not text or locale == "vi":
        raise ValueError("empty text or source locale")
    row = db.session.scalar(sa.select(ContentTranslation).filter_by(
        object_type=object_type, object_id=object_id, field=field, locale=locale))
    if row is not None and row.text == text and row.source_text == source_text:
        return row, False
    before = audit.snapshot(row, ("text", "source_text")) if row else None
    if row is None:
        row = ContentTranslation(object_type=object_type, object_id=object_id, field=field,
                                 locale=locale)
        db.session.add(row)
    row.text, row.source_text, row.updated_by_id = text, source_text, _actor_id()
    db.session.flush()
    audit.record("i18n.content.set", row, before=before,
                 after={"object": f"{object_type}:{object_id}:{field}", "locale": locale,
                        "text": text})
    content.forget()
    return row, True


def set_interface(locale: str, msgid: str, text: str) -> tuple[InterfaceTranslation, bool]:
    """Create or replace one interface string for a locale; returns (row, changed?).

    :raise ValueError: for an empty text, or Vietnamese / English (kept in the repository).
    """
    from .messages import FILE_ONLY

    if not text or locale in FILE_ONLY:
        raise ValueError("empty text or repository locale")
    row = db.session.scalar(sa.select(InterfaceTranslation).filter_by(locale=locale,
                                                                      msgid=msgid))
    if row is not None and row.text == text:
        return row, False
    before = {"text": row.text} if row else None
    if row is None:
        row = InterfaceTranslation(locale=locale, msgid=msgid)
        db.session.add(row)
    row.text, row.updated_by_id = text, _actor_id()
    db.session.flush()
    audit.record("i18n.interface.set", row, before=before,
                 after={"locale": locale, "msgid": msgid[:200], "text": text})
    return row, True


def set_user_locale(user, tag: str) -> bool:
    """Remember a user's interface language; returns whether it changed."""
    if user.locale == tag:
        return False
    before = {"locale": user.locale}
    user.locale = tag
    db.session.flush()
    audit.record("account.locale", user, before=before, after={"locale": tag})
    return True


def carry_over(_app, user) -> None:
    """At sign-in (Flask-Login's ``user_logged_in``): a language picked before signing in
    in this browser becomes the user's preference (audited with the sign-in's commit)."""
    locale = registry().get(request.cookies.get(PICKED)) if has_request_context() else None
    if locale is None:
        return
    set_user_locale(user, locale.tag)
    forget()

    @after_this_request
    def _done(response):
        response.delete_cookie(PICKED)
        return response

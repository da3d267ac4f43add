"""Translations stored in the database: content (data) and interface strings.

The Vietnamese text of content stays in its own table (``indicators.name`` …); a row here is
the same field in another locale. An empty translation is never stored: "untranslated"
means "no row", and the reader falls back along the locale's chain.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..extensions import db


class ContentTranslation(db.Model):
    """One field of one object (an indicator name, a choice label …) in one locale."""

    __tablename__ = "content_translations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The table of the translated object, e.g. ``indicators``.
    object_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    object_id: so.Mapped[int] = so.mapped_column(sa.Integer)
    field: so.Mapped[str] = so.mapped_column(sa.String(40))
    #: BCP 47 tag; never ``vi``, whose text is the object's own.
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    #: The Vietnamese text that was translated: a different current text means "outdated".
    source_text: so.Mapped[str | None] = so.mapped_column(sa.Text)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)

    __table_args__ = (
        sa.UniqueConstraint("object_type", "object_id", "field", "locale",
                            name="uq_content_translations_key"),
        sa.Index("ix_content_translations_locale_type", "locale", "object_type"),
        sa.CheckConstraint("length(text) > 0", name="not_empty"),
        sa.CheckConstraint("locale <> 'vi'", name="not_source_locale"),
    )


class InterfaceTranslation(db.Model):
    """An interface string (English msgid) translated for a locale by the translator
    workflow; read before the locale's compiled catalog."""

    __tablename__ = "interface_translations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    locale: so.Mapped[str] = so.mapped_column(sa.String(35))
    msgid: so.Mapped[str] = so.mapped_column(sa.Text)
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)

    __table_args__ = (
        sa.UniqueConstraint("locale", "msgid", name="uq_interface_translations_key"),
        sa.CheckConstraint("length(text) > 0", name="not_empty"),
        sa.CheckConstraint("locale NOT IN ('vi', 'en')", name="not_file_locale"),
    )

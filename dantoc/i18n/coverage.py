"""Translation coverage per locale, for interface text and for content."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from . import content, message_catalogs
from .locales import DEFAULT, SOURCE, InterfaceLocale
from .messages import file_strings
from .models import ContentTranslation, InterfaceTranslation


@dataclass(frozen=True)
class Count:
    done: int
    total: int
    #: Translations whose Vietnamese source changed since (content only).
    outdated: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0

    @property
    def missing(self) -> int:
        return self.total - self.done


@dataclass(frozen=True)
class Coverage:
    locale: InterfaceLocale
    interface: Count
    content: Count


def interface_count(locale: InterfaceLocale) -> Count:
    """Interface strings translated for ``locale`` (English msgids count as English)."""
    reference = message_catalogs.reference()
    total = len(reference)
    if locale.tag == SOURCE:
        return Count(total, total)
    if locale.tag == DEFAULT:
        return Count(sum(1 for text in reference.values() if text), total)
    done = set(file_strings(locale.tag))
    done |= set(db.session.scalars(sa.select(InterfaceTranslation.msgid).where(
        InterfaceTranslation.locale == locale.tag)))
    return Count(len(done & reference.keys()), total)


def _sources() -> dict[tuple[str, int, str], str]:
    return {(t, object_id, name): source for t in content.TRANSLATABLE
            for object_id, name, source in content.sources(t)}


def content_counts(locales: list[InterfaceLocale]) -> dict[str, Count]:
    """Content fields translated per locale; the Vietnamese source counts as complete."""
    sources = _sources()
    done = {loc.tag: 0 for loc in locales}
    outdated = dict(done)
    rows = db.session.execute(sa.select(
        ContentTranslation.object_type, ContentTranslation.object_id, ContentTranslation.field,
        ContentTranslation.locale, ContentTranslation.source_text))
    for object_type, object_id, name, tag, source_text in rows:
        source = sources.get((object_type, object_id, name))
        if source is None or tag not in done:
            continue  # the object or its text is gone
        if source_text is not None and " ".join(source_text.split()) != " ".join(
                source.split()):
            outdated[tag] += 1
        else:
            done[tag] += 1
    total = len(sources)
    return {loc.tag: Count(total if loc.tag == DEFAULT else done[loc.tag], total,
                           outdated[loc.tag]) for loc in locales}


def report(locales: list[InterfaceLocale]) -> list[Coverage]:
    """Coverage of every locale in ``locales``, in their order."""
    contents = content_counts(locales)
    return [Coverage(loc, interface_count(loc), contents[loc.tag]) for loc in locales]

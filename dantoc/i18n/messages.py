"""Interface messages: chained gettext catalogs, so that no label is ever blank.

A lookup goes: the locale's strings imported through the translator workflow (database) →
its compiled catalog → the same for each fallback (``vi`` last for minority locales) → the
English msgid. Catalog files are read once per application (a deploy restarts it); database
strings are re-read when their ``(count, last update)`` stamp changes, so every worker sees
an import at once.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from babel.support import NullTranslations, Translations
from flask import current_app, g, has_app_context
from flask_babel import Domain, get_babel

from ..extensions import db
from .locales import DEFAULT, SOURCE
from .selection import TRANSLATIONS_CACHE, current_locale, registry

#: Locales whose interface text is maintained in the repository only (no database strings).
FILE_ONLY = frozenset({DEFAULT, SOURCE})
#: Chains kept per application; older stamps are dropped past this.
CACHE_SIZE = 64


class _DictTranslations(Translations):
    """Strings from the database, with gettext's fallback mechanics.

    One text serves every plural form: the registered minority languages do not inflect
    for number.
    """

    def __init__(self, strings: dict[str, str], plural_ids: frozenset[str] = frozenset()):
        super().__init__()
        self.plural = lambda n: 0
        self._catalog = {((k, 0) if k in plural_ids else k): v for k, v in strings.items()}


def translation_dirs() -> list[str]:
    return list(get_babel().translation_directories)


def load_catalog(tag: str) -> NullTranslations:
    """The compiled catalogs of one locale, merged over all translation directories."""
    name = registry()[tag].catalog_dir
    merged: Translations | None = None
    for directory in translation_dirs():
        path = Path(directory, name, "LC_MESSAGES", "messages.mo")
        if not path.is_file():
            continue
        with path.open("rb") as stream:
            catalog = Translations(stream)
        if merged is None:
            merged = catalog
        else:
            merged.merge(catalog)
    return merged or NullTranslations()


def _db_stamp(tags: tuple[str, ...]) -> tuple:
    from .models import InterfaceTranslation

    wanted = [t for t in tags if t not in FILE_ONLY]
    if not wanted:
        return ()
    row = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(InterfaceTranslation.updated_at))
        .where(InterfaceTranslation.locale.in_(wanted))
    ).one()
    return tuple(row)


def db_strings(tag: str) -> dict[str, str]:
    """Interface strings imported for ``tag`` through the translator workflow."""
    from .models import InterfaceTranslation

    if tag in FILE_ONLY:
        return {}
    rows = db.session.execute(sa.select(InterfaceTranslation.msgid, InterfaceTranslation.text)
                              .where(InterfaceTranslation.locale == tag))
    return dict(rows.tuples().all())


def build_chain(tags: tuple[str, ...], with_database: bool = True) -> NullTranslations:
    """One gettext object that tries each locale of ``tags`` in turn, then the msgid."""
    from .message_catalogs import reference

    plural_ids = reference().plural
    head: NullTranslations | None = None
    for tag in tags:
        strings = db_strings(tag) if with_database else {}
        for part in (_DictTranslations(strings, plural_ids), load_catalog(tag)):
            if head is None:
                head = part
            else:
                head.add_fallback(part)
    return head or NullTranslations()


class ChainDomain(Domain):
    """Flask-Babel's domain, keyed on the active BCP 47 tag instead of a CLDR locale."""

    def get_translations(self):
        if not has_app_context():
            return NullTranslations()
        ctx_cached = g.get(TRANSLATIONS_CACHE)
        if ctx_cached is not None:
            return ctx_cached
        tags = current_locale().chain()
        try:
            key = (tags, _db_stamp(tags))
            cache = current_app.extensions.setdefault("dantoc_translations", {})
            translations = cache.get(key)
            if translations is None:
                translations = build_chain(tags)
                if len(cache) > CACHE_SIZE:
                    cache.clear()  # stamps moved on: drop the stale chains
                cache[key] = translations
        except sa.exc.SQLAlchemyError:  # never fail a page (an error page…) over a label
            translations = build_chain(tags, with_database=False)
        setattr(g, TRANSLATIONS_CACHE, translations)
        return translations


def preload_chain(tags: tuple[str, ...]) -> None:
    """Build the chain of ``tags`` ahead of the first request, when every tag's strings come
    from files only (no database read: the cache key of such a chain has no stamp)."""
    if all(tag in FILE_ONLY for tag in tags):
        cache = current_app.extensions.setdefault("dantoc_translations", {})
        cache.setdefault((tags, ()), build_chain(tags))


def file_strings(tag: str) -> dict[str, str]:
    """Translated strings of ``tag``'s ``.po`` files in every translation directory."""
    from .message_catalogs import translated_in_file

    name = registry()[tag].catalog_dir
    strings: dict[str, str] = {}
    for directory in translation_dirs():
        strings.update(translated_in_file(name, Path(directory)))
    return strings


def reset_request_cache() -> None:
    """Forget this request's translations (after a switch or an import)."""
    g.pop(TRANSLATIONS_CACHE, None)

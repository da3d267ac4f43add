"""Translator workflow: export what is untranslated for a locale, import it back.

Rows carry interface strings (key = the English msgid) and content (key =
``table:id:field``). An import is validated whole and applied whole: one bad row refuses
the file, with every problem listed by line, in the reader's language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _

from . import content, message_catalogs, services
from .locales import DEFAULT, InterfaceLocale
from .messages import FILE_ONLY, db_strings, file_strings

INTERFACE, CONTENT = "interface", "content"
#: Longest interface translation accepted.
INTERFACE_LIMIT = 2000
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdifr]|%[sdifr]")
HTML = re.compile(r"<\s*[A-Za-z/!?]|&[A-Za-z#][A-Za-z0-9]*;")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Row:
    """One line of an exchange file."""

    kind: str
    key: str
    source_vi: str = ""
    source_en: str = ""
    translation: str = ""
    line: int = 0


@dataclass
class ImportResult:
    changed: int = 0
    unchanged: int = 0
    empty: int = 0


@dataclass
class ImportRefused(Exception):
    """The file was refused whole; ``errors`` are localized, line-numbered messages."""

    errors: list[str] = field(default_factory=list)


def clean(text: str | None) -> str:
    """NFC (Vietnamese typed on old keyboards arrives decomposed), trimmed."""
    return unicodedata.normalize("NFC", text or "").strip()


def _same(a: str, b: str) -> bool:
    return " ".join(clean(a).split()) == " ".join(clean(b).split())


# --- export -------------------------------------------------------------------------------

def interface_rows(locale: InterfaceLocale, everything: bool = False) -> list[Row]:
    """Interface strings of ``locale``: untranslated ones, or all of them."""
    if locale.tag in FILE_ONLY:
        return []
    done = {**file_strings(locale.tag), **db_strings(locale.tag)}
    return [Row(INTERFACE, msgid, vi, msgid, done.get(msgid, ""))
            for msgid, vi in message_catalogs.reference().items()
            if everything or msgid not in done]


def content_rows(locale: InterfaceLocale, everything: bool = False) -> list[Row]:
    """Content fields of ``locale``: untranslated or outdated ones, or all of them."""
    if locale.tag == DEFAULT:
        return []
    rows = []
    for object_type in content.TRANSLATABLE:
        done = content.translated(object_type, locale.tag)
        english = content.translated(object_type, "en") if locale.tag != "en" else {}
        for object_id, name, source in content.sources(object_type):
            row = done.get((object_id, name))
            current = row is not None and _same(row.source_text or source, source)
            if everything or not current:
                hint = english.get((object_id, name))
                rows.append(Row(CONTENT, f"{object_type}:{object_id}:{name}", source,
                                hint.text if hint else "", row.text if row else ""))
    return rows


def export_rows(locale: InterfaceLocale, everything: bool = False) -> list[Row]:
    return interface_rows(locale, everything) + content_rows(locale, everything)


# --- import -------------------------------------------------------------------------------

class _Sources:
    """The current Vietnamese text of content keys, read once per object type."""

    def __init__(self):
        self._by_type: dict[str, dict[tuple[int, str], str]] = {}

    def get(self, key: str) -> tuple[str, int, str, str] | None:
        """(type, id, field, Vietnamese text) for a content key, ``None`` if unknown."""
        parts = key.split(":")
        if len(parts) != 3 or not parts[1].isdigit() or parts[0] not in content.TRANSLATABLE:
            return None
        object_type, object_id, name = parts[0], int(parts[1]), parts[2]
        if object_type not in self._by_type:
            self._by_type[object_type] = {(i, f): text for i, f, text in
                                          content.sources(object_type)}
        source = self._by_type[object_type].get((object_id, name))
        return (object_type, object_id, name, source) if source else None


def _problems(text: str, source: str, limit: int) -> list[str]:
    problems = []
    if len(text) > limit:
        problems.append(_("The translation is longer than %(n)s characters.", n=limit))
    if HTML.search(text):
        problems.append(_("HTML tags and entities are not allowed in a translation."))
    if CONTROL.search(text):
        problems.append(_("The translation contains control characters."))
    if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source)):
        problems.append(_("The placeholders must be the same as in the source: %(names)s.",
                          names=", ".join(sorted(set(PLACEHOLDER.findall(source)))) or "—"))
    return problems


def _check_row(locale: InterfaceLocale, row: Row, reference: dict,
               sources: _Sources) -> tuple[list[str], tuple]:
    """(problems, what to write) for one row with a non-empty translation."""
    text = clean(row.translation)
    if row.kind == INTERFACE:
        if locale.tag in FILE_ONLY:
            return [_("Interface text of this language is maintained with the program.")], ()
        if row.key not in reference:
            return [_("Unknown interface text: %(key)s", key=row.key[:80])], ()
        return _problems(text, row.key, INTERFACE_LIMIT), (INTERFACE, row.key, text)
    if row.kind != CONTENT:
        return [_("Unknown kind “%(kind)s”: use interface or content.", kind=row.kind[:20])], ()
    found = sources.get(row.key)
    if found is None:
        return [_("Unknown content key: %(key)s", key=row.key[:80])], ()
    object_type, object_id, name, source = found
    problems = _problems(text, source, content.max_length(object_type, name))
    if row.source_vi and not _same(row.source_vi, source):
        problems.append(_("The Vietnamese text has changed since the export; export again."))
    return problems, (CONTENT, object_type, object_id, name, text, source)


def validate(locale: InterfaceLocale, rows: list[Row]) -> tuple[list[tuple], int]:
    """(writes, number of empty rows) for a valid file.

    :raise ImportRefused: with every problem found, when any row is wrong.
    """
    errors, writes, seen, empty = [], [], {}, 0
    if locale.tag == DEFAULT:
        raise ImportRefused([_("Vietnamese is the source language: nothing to import.")])
    reference, sources = message_catalogs.reference(), _Sources()
    for row in rows:
        where = (row.kind, row.key)
        if where in seen:
            errors.append(_("Line %(line)s: %(message)s", line=row.line, message=_(
                "Same entry as line %(line)s.", line=seen[where])))
            continue
        seen[where] = row.line
        if not clean(row.translation):
            empty += 1
            continue
        problems, write = _check_row(locale, row, reference, sources)
        errors += [_("Line %(line)s: %(message)s", line=row.line, message=p) for p in problems]
        writes.append(write)
    if errors:
        raise ImportRefused(errors)
    return writes, empty


def apply(locale: InterfaceLocale, rows: list[Row]) -> ImportResult:
    """Validate then write every row (flushed, audited); the caller commits.

    :raise ImportRefused: when any row is wrong; nothing is written then.
    """
    writes, empty = validate(locale, rows)
    result = ImportResult(empty=empty)
    for write in writes:
        if write[0] == INTERFACE:
            _row, changed = services.set_interface(locale.tag, write[1], write[2])
        else:
            _row, changed = services.set_content(*write[1:4], locale.tag, write[4], write[5])
        if changed:
            result.changed += 1
        else:
            result.unchanged += 1
    return result

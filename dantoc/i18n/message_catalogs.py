"""Message catalog files: extract msgids from the source, update and compile ``.po`` files.

Works in memory with Babel's API, so it handles locales CLDR does not know (``ium``,
``hmn_Latn_VN@rpa``) and needs no application. ``.mo`` files are build output (git-ignored);
they are written atomically, so parallel builds or test runs never read half a file.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from ..paths import ROOT

TRANSLATIONS = ROOT / "translations"
DOMAIN = "messages"
#: Flask-Babel's lazy variants on top of Babel's default keywords.
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3), "_l": None, "lazy_gettext": None,
    "lazy_ngettext": (1, 2), "lazy_pgettext": ((1, "c"), 2),
}
#: Only these top-level folders hold translatable source (see babel.cfg).
SOURCE_DIRS = ("dantoc", "templates")
HEADER = "Interface messages of dantoc. Msgids are English; Vietnamese is the default."


def _directory_filter(path: str) -> bool:
    try:
        relative = Path(path).resolve().relative_to(ROOT)
    except ValueError:  # a symlink out of the checkout (a worktree's node_modules, .venv)
        return False
    if relative == Path("."):
        return True
    return relative.parts[0] in SOURCE_DIRS and not relative.name.startswith((".", "_"))


def _mapping():
    with (ROOT / "babel.cfg").open(encoding="utf-8") as stream:
        return parse_mapping_cfg(stream, filename=str(ROOT / "babel.cfg"))


def extract(root: Path = ROOT) -> Catalog:
    """Every msgid in ``dantoc/**.py`` and ``templates/**.html``, as a template catalog."""
    method_map, options_map = _mapping()
    catalog = Catalog(project="dantoc", version="1", header_comment=f"# {HEADER}",
                      charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            root, method_map, options_map, keywords=KEYWORDS, comment_tags=("NOTE:",),
            strip_comment_tags=True, directory_filter=_directory_filter):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments,
                    context=context)
    return catalog


def po_path(directory_name: str, root: Path = TRANSLATIONS) -> Path:
    return root / directory_name / "LC_MESSAGES" / f"{DOMAIN}.po"


def po_files(root: Path = TRANSLATIONS) -> Iterator[Path]:
    yield from sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def read(path: Path) -> Catalog:
    """A ``.po`` file, whatever its locale (unknown locales get English plural rules)."""
    with path.open("rb") as stream:
        return read_po(stream, locale=None, abort_invalid=True)


def write(path: Path, catalog: Catalog, *, sort: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda stream: write_po(stream, catalog, width=100, sort_output=sort,
                                          ignore_obsolete=True, include_previous=False,
                                          include_lineno=False))


def _atomic(path: Path, writer) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as stream:
            writer(stream)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def init(directory_name: str, template: Catalog, root: Path = TRANSLATIONS) -> Path:
    """Create an empty catalog (header only, every msgstr empty): never invented text.

    :raise FileExistsError: when the catalog exists already.
    """
    path = po_path(directory_name, root)
    if path.exists():
        raise FileExistsError(path)
    catalog = Catalog(locale=directory_name, project="dantoc", version="1", fuzzy=False,
                      header_comment=f"# {HEADER}", charset="utf-8")
    catalog.update(template, no_fuzzy_matching=True)
    write(path, catalog)
    return path


def update(template: Catalog, root: Path = TRANSLATIONS) -> dict[str, int]:
    """Merge new msgids into every catalog, drop gone ones; returns untranslated counts.

    No fuzzy matching: a guessed translation of a changed string is worse than Vietnamese.
    """
    result = {}
    for path in po_files(root):
        catalog = read(path)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        write(path, catalog)
        result[path.parent.parent.name] = sum(1 for m in catalog if m.id and not all(
            m.string if m.pluralizable else (m.string,)))
    return result


def compile_all(root: Path = TRANSLATIONS, *, force: bool = False) -> list[Path]:
    """Compile every ``.po`` whose ``.mo`` is missing or older; fuzzy entries are left out."""
    written = []
    for po in po_files(root):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime_ns >= po.stat().st_mtime_ns:
            continue
        catalog = read(po)
        _atomic(mo, lambda stream, c=catalog: write_mo(stream, c, use_fuzzy=False))
        written.append(mo)
    return written


class Reference(dict):
    """msgid → Vietnamese text, for every interface message; ``plural`` holds plural ids."""

    plural: frozenset[str] = frozenset()


def reference(root: Path = TRANSLATIONS) -> Reference:
    """The interface msgids, from the Vietnamese catalog (kept complete by the tests)."""
    path = po_path("vi", root)
    return _reference(str(path), path.stat().st_mtime_ns if path.exists() else 0)


@functools.lru_cache(maxsize=4)
def _reference(path: str, _mtime: int) -> Reference:
    result = Reference()
    plural = set()
    if not _mtime:
        return result
    for message in read(Path(path)):
        if not message.id or message.context:
            continue
        msgid = message.id[0] if message.pluralizable else message.id
        string = message.string[0] if message.pluralizable else message.string
        result[msgid] = "" if message.fuzzy else (string or "")
        if message.pluralizable:
            plural.add(msgid)
    result.plural = frozenset(plural)
    return result


def translated_in_file(directory_name: str, root: Path = TRANSLATIONS) -> dict[str, str]:
    """msgid → translation of a locale's own ``.po`` (non-fuzzy, non-empty); {} if none."""
    path = po_path(directory_name, root)
    if not path.exists():
        return {}
    result = {}
    for message in read(path):
        if not message.id or message.context or message.fuzzy:
            continue
        msgid = message.id[0] if message.pluralizable else message.id
        string = message.string[0] if message.pluralizable else message.string
        if string:
            result[msgid] = string
    return result

"""The registry of interface locales: BCP 47 tags, scripts, fonts and fallback chains.

Tags use ISO 639-3 language subtags where ISO 639-1 has none (``blt``, ``ium``, ``khb``),
and the ISO 15924 script where the language is written in more than one (Tai Viet for Thái,
New Tai Lue for Lự). Mông has two Latin orthographies in Vietnam and the IANA registry has
no variant subtag for either, so they are told apart by private-use subtags:
``hmn-Latn-VN-x-vn1961`` ("chữ Mông Việt Nam", approved by NĐ 206/CP of 27/11/1961) and
``hmn-Latn-VN-x-rpa`` (RPA, "chữ Mông quốc tế"). Neither falls back to the other: a reader
of one orthography does not read the other reliably, so both fall back to Vietnamese.

Display names come from CLDR (through Babel) where CLDR has the language; otherwise the
Vietnamese name is shown. A native name is never made up here.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

from babel import Locale, UnknownLocaleError

DEFAULT = "vi"
SOURCE = "en"  # the language of msgids


@dataclass(frozen=True)
class InterfaceLocale:
    """One interface locale."""

    tag: str
    #: The Vietnamese name, always shown next to the native one.
    name_vi: str
    script: str = "Latn"
    #: Font family key when phones commonly lack the script: see ``FONTS``.
    font: str | None = None
    #: Tried in order after the locale itself; minority chains end in ``vi``.
    fallbacks: tuple[str, ...] = (DEFAULT,)
    #: Where the language and script choice come from, and what is not verified.
    note: str = ""
    #: Registered only for tests (private-use ``qaa``–``qtz`` tags): never offered in a switch.
    test_only: bool = field(default=False, compare=False)

    @property
    def catalog_dir(self) -> str:
        """The gettext directory name (``blt-Tavt`` → ``blt_Tavt``, ``-x-rpa`` → ``@rpa``)."""
        return catalog_dir(self.tag)

    @property
    def native_name(self) -> str | None:
        """The language's name in itself, from CLDR; ``None`` when CLDR does not know it."""
        locale = cldr_locale(self.tag)
        return locale.get_display_name(locale) if locale else None

    @property
    def display_name(self) -> str:
        """What the switch shows: native name and Vietnamese name when they differ."""
        native = self.native_name
        if native and native.casefold() != self.name_vi.casefold():
            return f"{native} · {self.name_vi}"
        return self.name_vi

    @property
    def formatting_locale(self) -> str:
        """The CLDR locale for numbers and dates: our own when CLDR has real data, else vi."""
        locale = cldr_locale(self.tag)
        return str(locale) if locale and has_formatting_data(str(locale)) else DEFAULT

    def chain(self) -> tuple[str, ...]:
        """This tag followed by its fallbacks, without repeats."""
        return tuple(dict.fromkeys((self.tag, *self.fallbacks)))


#: Web fonts for scripts that phones and PCs in Lai Châu often cannot render.
FONTS: Mapping[str, str] = {"tavt": "css/fonts-tavt.css", "talu": "css/fonts-talu.css"}


def shipped_locales(text: str) -> tuple[InterfaceLocale, ...]:
    """The locales of a registry file (``data/locales.toml``: one ``[[locale]]`` table each,
    keyed as the fields of :class:`InterfaceLocale`), in their order."""
    return tuple(InterfaceLocale(**{**entry, "fallbacks": tuple(entry["fallbacks"])}
                                 if "fallbacks" in entry else entry)
                 for entry in tomllib.loads(text)["locale"])


#: The shipped locales, in the order a switch offers them: a table, kept as data with the
#: sources of each choice (``data/locales.toml``).
LOCALES: tuple[InterfaceLocale, ...] = shipped_locales(
    (resources.files(__package__) / "data" / "locales.toml").read_text(encoding="utf-8"))


class Registry:
    """The locales of one application: the defaults plus any added by configuration."""

    def __init__(self, locales: Iterable[InterfaceLocale]):
        self._by_key = {loc.tag.casefold(): loc for loc in locales}
        for loc in self._by_key.values():
            unknown = [t for t in loc.fallbacks if t.casefold() not in self._by_key]
            if unknown:
                raise ValueError(f"{loc.tag}: unknown fallback {unknown}")

    def __iter__(self):
        return iter(self._by_key.values())

    def __contains__(self, tag: object) -> bool:
        return isinstance(tag, str) and tag.casefold() in self._by_key

    def get(self, tag: str | None) -> InterfaceLocale | None:
        """The locale for ``tag`` (BCP 47 tags are case-insensitive), or ``None``."""
        return self._by_key.get(tag.casefold()) if isinstance(tag, str) else None

    def __getitem__(self, tag: str) -> InterfaceLocale:
        locale = self.get(tag)
        if locale is None:
            raise KeyError(tag)
        return locale

    @property
    def tags(self) -> list[str]:
        return [loc.tag for loc in self]

    def offered(self) -> list[InterfaceLocale]:
        """The locales a switch offers: every registered one except test fixtures."""
        return [loc for loc in self if not loc.test_only]

    def by_catalog_dir(self, name: str) -> InterfaceLocale | None:
        return next((loc for loc in self if loc.catalog_dir == name), None)


def catalog_dir(tag: str) -> str:
    """Map a BCP 47 tag to a gettext directory name Babel can parse.

    Private-use subtags become a gettext modifier (like ``sr@latin``); dashes become
    underscores. Only letters, digits, ``_`` and ``@`` can come out, so the name is safe
    as a path component.
    """
    main, _, private = tag.partition("-x-")
    name = main.replace("-", "_")
    if private:
        name += "@" + private.replace("-", "_")
    if not name or not all(c.isascii() and (c.isalnum() or c in "_@") for c in name):
        raise ValueError(f"not a safe locale tag: {tag!r}")
    return name


@functools.cache
def cldr_locale(tag: str) -> Locale | None:
    """Babel's locale for ``tag`` when CLDR has the language, without private-use parts."""
    main = tag.partition("-x-")[0]
    try:
        return Locale.parse(main, sep="-")
    except (UnknownLocaleError, ValueError):
        return None


@functools.cache
def has_formatting_data(identifier: str) -> bool:
    """Whether CLDR formats dates for this locale beyond the root placeholders (``M07``).

    CLDR knows ``blt`` only at its "core" level: the name and likely subtags. Its dates
    would print as ``2025 M07 1``, which nobody in Lai Châu writes, so such locales are
    formatted the Vietnamese way.
    """
    try:
        locale = Locale.parse(identifier)
    except (UnknownLocaleError, ValueError):
        return False
    return locale.months["format"]["wide"] != Locale("root").months["format"]["wide"]


def default_registry(extra: Iterable[InterfaceLocale | Mapping] = ()) -> Registry:
    """The shipped locales plus ``extra`` (``I18N_EXTRA_LOCALES``, used by tests)."""
    added = [x if isinstance(x, InterfaceLocale) else InterfaceLocale(**x) for x in extra]
    return Registry([*LOCALES, *added])

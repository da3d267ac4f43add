"""The page chrome, rendered once per variant and kept: the header, the navigation and the
language switch of every page are the same for everyone who shares a locale, a role and a
few facts about their place, except for a handful of the request's own values (the CSRF
token, the owner id, the user name, the page's address).

A part is rendered with a marker (``slot.<name>``, a control character no data contains)
where each of those values goes, kept per application under its variant, and every request
puts its own values, escaped as Jinja would escape them, in place of the markers. Rendering
the chrome was about a fifth of the server time of a village head's form page.

A fragment a view answers with (a submit's receipt) is kept the same way by
:func:`fragment`, under the variant its view gives.

What a part depends on is the factory's business (this package imports no domain): it
passes :func:`init_app` the function that says the variant of the request (None when the
part must be rendered afresh, for example in a locale whose text is read from the database
and may change at any time) and the functions that give each slot's value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, current_app, render_template
from markupsafe import Markup, escape

#: Kept variants per application, at most; then they are all dropped and kept anew.
SIZE = 256
EXTENSION = "dantoc_kept"


def marker(name: str) -> str:
    return f"\x00{name}\x00"


def _marked(kept: dict, key: tuple | None, template: str, names, **context) -> str:
    """``template`` rendered with a marker in place of each slot's value: the copy kept
    under ``key``, else rendered now (and kept, unless ``key`` is None)."""
    text = kept.get(key) if key is not None else None
    if text is None:
        text = render_template(template, slot={
            name: Markup(marker(name)) for name in names}, **context)  # noqa: S704 (marker)
        if key is not None:
            if len(kept) >= SIZE:
                kept.clear()
            kept[key] = text
    return text


def _filled(text: str, names, value_of: Callable[[str], object]) -> Markup:
    """``text`` with each marker replaced by its value, escaped as Jinja escapes it; a
    value is only asked for where the text shows it."""
    for name in names:
        if marker(name) in text:
            text = text.replace(marker(name), escape(value_of(name)))
    return Markup(text)  # noqa: S704 (rendered by our templates, values escaped)


@dataclass(frozen=True)
class Part:
    template: str
    #: The request's values the template shows, as ``slot.<name>``.
    slots: tuple[str, ...]


@dataclass
class Chrome:
    parts: Mapping[str, Part]
    variant: Callable[[], tuple | None]
    values: Mapping[str, Callable[[], str]]
    kept: dict

    def render(self, name: str) -> Markup:
        """The part ``name`` for this request (a template global, ``chrome(name)``)."""
        part = self.parts[name]
        # Templates reloaded when edited (a debug server) are rendered afresh.
        variant = None if current_app.jinja_env.auto_reload else self.variant()
        key = None if variant is None else (name, *variant)
        text = _marked(self.kept, key, part.template, part.slots)
        return _filled(text, part.slots, lambda slot: self.values[slot]())


def fragment(template: str, variant: tuple | None, slots: Mapping[str, object],
             **context) -> Markup:
    """``template`` with this request's ``slots`` (``slot.<name>`` in the template): rendered
    once per ``variant`` with a marker where each slot's value goes, kept with the chrome's
    parts, and every request's values (escaped as Jinja escapes them) put in place of the
    markers. ``context`` is what the template shows besides the slots: the same for every
    request of the variant (the caller's business). Rendered afresh, with the values
    themselves, when ``variant`` is None or templates are reloaded when edited."""
    if variant is None or current_app.jinja_env.auto_reload:
        return Markup(render_template(template, slot=slots, **context))  # noqa: S704
    text = _marked(current_app.extensions[EXTENSION].kept, ("fragment", template, *variant),
                   template, slots, **context)
    return _filled(text, slots, slots.__getitem__)


def init_app(app: Flask, *, parts: Mapping[str, Part], variant: Callable[[], tuple | None],
             values: Mapping[str, Callable[[], str]]) -> None:
    chrome = Chrome(parts, variant, values, {})
    app.extensions[EXTENSION] = chrome
    app.jinja_env.globals["chrome"] = chrome.render


def clear() -> None:
    """Forget the kept parts of the running application (tests)."""
    current_app.extensions[EXTENSION].kept.clear()

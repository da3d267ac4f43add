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
        text = self.kept.get(key) if key is not None else None
        if text is None:
            text = render_template(part.template, slot={
                slot: Markup(marker(slot)) for slot in part.slots})  # noqa: S704 (our marker)
            if key is not None:
                if len(self.kept) >= SIZE:
                    self.kept.clear()
                self.kept[key] = text
        for slot in part.slots:  # a value is only asked for where the part shows it
            if marker(slot) in text:
                text = text.replace(marker(slot), escape(self.values[slot]()))
        return Markup(text)  # noqa: S704 (rendered by our templates, values escaped)


def fragment(template: str, variant: tuple | None, slots: Mapping[str, object],
             **context) -> Markup:
    """``template`` with this request's ``slots`` (``slot.<name>`` in the template): rendered
    once per ``variant`` with a marker where each slot's value goes, kept with the chrome's
    parts, and every request's values (escaped as Jinja escapes them) put in place of the
    markers. ``context`` is what the template shows besides the slots: the same for every
    request of the variant (the caller's business). Rendered afresh, with the values
    themselves, when ``variant`` is None or templates are reloaded when edited."""
    kept = current_app.extensions[EXTENSION].kept
    key = (None if variant is None or current_app.jinja_env.auto_reload
           else ("fragment", template, *variant))
    text = kept.get(key) if key is not None else None
    if text is None:
        if key is None:
            return Markup(render_template(template, slot=slots, **context))  # noqa: S704
        text = render_template(template, slot={
            name: Markup(marker(name)) for name in slots}, **context)  # noqa: S704 (marker)
        if len(kept) >= SIZE:
            kept.clear()
        kept[key] = text
    for name, value in slots.items():
        text = text.replace(marker(name), escape(value))
    return Markup(text)  # noqa: S704 (rendered by our templates, values escaped)


def init_app(app: Flask, *, parts: Mapping[str, Part], variant: Callable[[], tuple | None],
             values: Mapping[str, Callable[[], str]]) -> None:
    chrome = Chrome(parts, variant, values, {})
    app.extensions[EXTENSION] = chrome
    app.jinja_env.globals["chrome"] = chrome.render


def clear() -> None:
    """Forget the kept parts of the running application (tests)."""
    current_app.extensions[EXTENSION].kept.clear()

"""Every piece of user-facing text in templates goes through Flask-Babel.

The test strips Jinja expressions, statements and comments, then looks for letters left in
text nodes and in human-readable attributes. Anything found is text a translator never sees.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dantoc import ROOT

TEMPLATES = sorted(p for p in (ROOT / "templates").rglob("*.html"))
JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
READABLE_ATTRS = {"title", "alt", "placeholder", "aria-label", "aria-description", "label",
                  "value", "content"}
#: Attribute values that are data, not language (``value`` of hidden inputs and buttons).
LETTER = re.compile(r"[^\W\d_]", re.U)


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name not in READABLE_ATTRS or not value:
                continue
            if name == "value" and attrs.get("type") in ("hidden", None, "checkbox", "radio"):
                continue
            if name == "content" and tag == "meta":
                continue
            if LETTER.search(value):
                self.found.append(f'{tag}[{name}="{value}"]')

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip and LETTER.search(data):
            self.found.append(data.strip())


def untranslated(source: str) -> list[str]:
    finder = _Finder()
    finder.feed(JINJA.sub(" ", source))
    return finder.found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_untranslated_text(path: Path):
    assert untranslated(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("snippet, expected", [
    ("<p>Hello</p>", ["Hello"]),
    ('<input placeholder="Search">', ['input[placeholder="Search"]']),
    ("<p>{{ _('Hello') }}</p>", []),
    ("<p>{{ unit.name }} · 12</p>", []),
    ('<input type="hidden" name="next" value="abc">', []),
    ("<style>body{color:red}</style>", []),
])
def test_the_finder_itself(snippet, expected):
    assert untranslated(snippet) == expected

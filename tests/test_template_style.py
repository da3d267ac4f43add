"""Templates stay readable (issue 15 item 5): no line longer than 120 characters, and one
way to write what every form repeats (the CSRF field through its macro)."""

from __future__ import annotations

import re

from dantoc import ROOT

TEMPLATES = ROOT / "templates"
LIMIT = 120


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


def long_lines(paths) -> list[str]:
    """"file:line: n characters" of every line longer than :data:`LIMIT`."""
    return [f"{path.name}:{n}: {len(line)} characters"
            for path in paths
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if len(line) > LIMIT]


def test_no_template_line_is_longer_than_120_characters():
    assert long_lines(_templates()) == []


def test_the_check_finds_a_long_line(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<p>" + "x" * (LIMIT - 3) + "</p>\n" + "y" * LIMIT + "\n", encoding="utf-8")
    assert long_lines([page]) == [f"page.html:1: {LIMIT + 4} characters"]


def test_forms_take_the_csrf_field_from_the_macro():
    by_hand = re.compile(r'name="csrf_token"')
    macro = TEMPLATES / "_macros" / "forms.html"
    found = [str(p.relative_to(ROOT)) for p in _templates()
             if p != macro and by_hand.search(p.read_text(encoding="utf-8"))]
    assert found == []
    assert len(_templates()) > 50

"""Reading responses: a page by element id, and the htmx request headers."""

from __future__ import annotations

#: An htmx request (a fragment is wanted), and a boosted one (a whole page is wanted).
HX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}


class Html:
    """A page read by element id: ``page.attrs("v12")``, ``page.text("v12-rc")``."""

    def __init__(self, text: str):
        from html.parser import HTMLParser

        by_id, texts, stack = {}, {}, []
        void = {"input", "br", "img", "meta", "link", "hr", "source", "wbr", "area", "col"}

        class _Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                attrs = dict(attrs)
                if attrs.get("id"):
                    by_id[attrs["id"]] = {"tag": tag, **attrs}
                if tag not in void:
                    stack.append((tag, attrs.get("id")))
                    if attrs.get("id"):
                        texts[attrs["id"]] = ""

            def handle_endtag(self, tag):
                while stack:
                    open_tag, _id = stack.pop()
                    if open_tag == tag:
                        break

            def handle_data(self, data):
                for _tag, element_id in stack:
                    if element_id:
                        texts[element_id] += data

        _Parser(convert_charrefs=True).feed(text)
        self.by_id, self.texts, self.html = by_id, texts, text

    def attrs(self, element_id: str) -> dict:
        return self.by_id[element_id]

    def text(self, element_id: str) -> str:
        return " ".join(self.texts[element_id].split())

    def described_by(self, element_id: str) -> list[str]:
        return (self.by_id[element_id].get("aria-describedby") or "").split()

    def __contains__(self, element_id: str) -> bool:
        return element_id in self.by_id


def html_of(response) -> Html:
    return Html(response.get_data(as_text=True))

"""Page-weight budgets of the village head's pages (budgets.md §6), with compression on.

"Transferred" counts what goes on the wire for HTTP/1.1: status line, headers and the
compressed body. 1 KB = 1,000 bytes. The demo questionnaire is the one measured.
"""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask_wtf.csrf import generate_csrf

from dantoc import ROOT
from dantoc.accounts.models import User
from dantoc.demo import seed
from dantoc.demo.accounts import ACCOUNTS
from dantoc.demo.catalogue import DEMO_CATALOGUE
from dantoc.extensions import db
from dantoc.indicators.models import CatalogueVersion, Form, Indicator

ENCODINGS = {"Accept-Encoding": "br, gzip"}
HX = {**ENCODINGS, "HX-Request": "true"}
PAGE_BUDGET = 14_000
VISIT_BUDGET = 30_000
VISIT_REQUESTS = 4
FRAGMENT_BUDGET = 5_000
SUBMIT_BODY_BUDGET = 1_500
#: The form fields a village head fills in typically (by indicator code).
TYPICAL = {"households": "126", "poor_households": "31", "near_poor_households": "12",
           "households_with_power": "120", "households_with_clean_water": "98",
           "road_hardened": "1", "distance_to_commune_km": "7,5", "households_with_phone": "110",
           "households_with_internet": "64", "has_school": "1", "health_access": "under_5km",
           "has_cultural_house": "0", "religious_followers": "40", "security_incidents": "0"}
#: Population of the grid: ethnic group code → (male, female).
POPULATION = {"03": ("231", "240"), "08": ("57", "60")}


def transferred(response) -> int:
    """Bytes on the wire for an HTTP/1.1 response: status line, headers, body as sent."""
    head = f"HTTP/1.1 {response.status}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in response.headers.items()) + "\r\n"
    return len(head.encode()) + len(response.get_data())


class Controls(HTMLParser):
    """The successful controls of the entry form, as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self.subresources: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.subresources.append(a["src"])
        if tag == "link" and a.get("rel") in ("stylesheet", "manifest", "icon", "preload"):
            self.subresources.append(a["href"])
        if tag == "input" and a.get("name") and a.get("type") not in ("radio", "checkbox"):
            self.fields[a["name"]] = a.get("value") or ""
        if tag == "textarea":
            self.fields[a["name"]] = ""
        if tag == "select":
            self._select = a["name"]
        if tag == "option" and self._select and self._select not in self.fields:
            self.fields[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def controls(html: str) -> Controls:
    parser = Controls()
    parser.feed(html[html.index('<form method="post" action="/entry'):])
    return parser


@pytest.fixture
def demo(app, login):
    """The demo data, its village head signed in, and the URL of the yearly questionnaire."""
    seed()
    db.session.commit()
    username = ACCOUNTS["village_head"][0]
    user = db.session.scalar(sa.select(User).where(User.username == username))
    client = login(user)
    home = client.get("/entry/").get_data(as_text=True)
    form = db.session.scalar(sa.select(Form).where(Form.code == "LC-DEMO-PT-NAM"))
    url = re.search(rf'href="(/entry/\d+/{form.code}/2026)"', home).group(1)
    return client, url


def _names() -> dict[str, str]:
    """Indicator code → field name on the demo questionnaire."""
    ids = dict(db.session.execute(
        sa.select(Indicator.code, Indicator.id)
        .join(CatalogueVersion, Indicator.catalogue_version_id == CatalogueVersion.id)
        .where(CatalogueVersion.code == DEMO_CATALOGUE)).all())
    return {code: f"v{ids[code]}" for code in ids}


def _filled(client, url: str) -> tuple[dict[str, str], str]:
    """The form as a village head sends it: two ethnic groups added, typical answers."""
    names = _names()
    pop = names["population"]
    html = client.get(url).get_data(as_text=True)
    data = controls(html).fields
    for group in POPULATION:
        data.update({"action": f"add:{pop}", f"add_{pop}": group})
        html = client.post(url, data=data).get_data(as_text=True)
        data = controls(html).fields
    for code, value in TYPICAL.items():
        if f'name="{names[code]}"' in html:  # text inputs and radios alike
            data[names[code]] = value
    for group, (male, female) in POPULATION.items():
        data[f"{pop}_{group}_0"], data[f"{pop}_{group}_1"] = male, female
    data["action"] = "submit"
    return data, html


def test_form_page_fits_one_initial_congestion_window(demo):
    client, url = demo
    response = client.get(url, headers=ENCODINGS)
    assert response.headers["Content-Encoding"] in ("br", "gzip")
    size = transferred(response)
    print(f"form page: {size} B transferred, {len(response.get_data())} B body "
          f"({response.headers['Content-Encoding']})")
    assert size <= PAGE_BUDGET
    html = client.get(url).get_data(as_text=True)
    critical = (ROOT / "templates" / "_critical.css").read_text(encoding="utf-8").strip()
    assert critical[:200] in html  # the critical CSS is inlined


# Flask-Compress 1.25 wraps a static file's stream without closing the file (the file object
# is closed by the garbage collector instead): a known library leak, not this page's.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_whole_first_visit_is_small_and_has_few_requests(demo):
    client, url = demo
    page = client.get(url, headers=ENCODINGS)
    html = client.get(url).get_data(as_text=True)
    refs = controls(html).subresources + re.findall(
        r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html[:html.index("<body")])
    refs = sorted({ref for ref in refs if not ref.startswith("data:")})  # data: is no request
    sizes = {"page": transferred(page)}
    for ref in refs:
        with client.get(ref, headers=ENCODINGS) as response:
            assert response.status_code == 200, ref
            sizes[ref] = transferred(response)
        with client.get(ref) as response:
            body = response.get_data()
        assert b"@font-face" not in body and b".woff" not in body, ref
    # The worker the page registers, and the browser's check of the bundle it imports (a
    # 304): counted too (tests/browser/test_first_visit_budget.py counts them in Chromium).
    for worker in re.findall(r'data-sw="([^"]+)"', html):
        with client.get(worker, headers=ENCODINGS) as response:
            sizes[worker] = transferred(response)
        with client.get(worker) as response:
            bundle = re.search(r'const BUNDLE = "([^"]+)"', response.get_data(as_text=True))
        with client.get(bundle.group(1), headers=ENCODINGS) as first:
            etag = first.headers["ETag"]
        with client.get(bundle.group(1), headers={**ENCODINGS, "If-None-Match": etag}) as check:
            assert check.status_code == 304
            sizes["bundle check"] = transferred(check)
    print("first visit:", sizes, "total", sum(sizes.values()))
    assert len(sizes) <= VISIT_REQUESTS
    assert sum(sizes.values()) <= VISIT_BUDGET
    assert "@font-face" not in html and ".woff" not in html


def test_submit_body_and_fragments_fit_their_budgets(demo):
    client, url = demo
    data, _html = _filled(client, url)
    with client.application.test_request_context():
        data["csrf_token"] = generate_csrf()  # what a real form carries (CSRF is off in tests)
    body = urlencode(data)
    print(f"submit body: {len(body)} B for {len(data)} fields")
    assert len(body) <= SUBMIT_BODY_BUDGET
    del data["csrf_token"]
    check = client.post(url + "/check", data=data, headers=HX)
    draft = client.post(url, data={**data, "action": "draft"}, headers=HX)
    fragments = {"check": transferred(check), "draft status": transferred(draft)}
    submitted = client.post(url, data=data)
    assert submitted.status_code == 303, submitted.get_data(as_text=True)
    receipt_url = submitted.headers["Location"]
    fragments["receipt"] = transferred(client.get(receipt_url, headers=HX))
    # What a boosted submit gets back (here a replay of the same UUID: the same answer).
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    answer = client.post(url, data=data, headers=boosted)
    assert answer.headers["HX-Retarget"] == "#main" and "<html" not in answer.get_data(True)
    fragments["submit answer"] = transferred(
        client.post(url, data=data, headers={**ENCODINGS, **boosted}))
    print("fragments:", fragments)
    plain = client.post(url + "/check", data=data, headers={"HX-Request": "true"})
    assert "<html" not in plain.get_data(as_text=True)
    assert all(size <= FRAGMENT_BUDGET for size in fragments.values()), fragments
    receipt = client.get(receipt_url, headers=ENCODINGS)
    assert transferred(receipt) <= PAGE_BUDGET


def test_home_and_receipt_pages_fit_the_page_budget(demo):
    client, url = demo
    home = client.get("/entry/", headers=ENCODINGS)
    assert transferred(home) <= PAGE_BUDGET
    key = controls(client.get(url).get_data(as_text=True)).fields["uuid"]
    uuid.UUID(key)

"""The locale registry, locale selection, the switch, ``lang`` attributes and script fonts."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from dantoc import ROOT
from dantoc.audit.models import AuditEvent
from dantoc.extensions import db
from dantoc.i18n.locales import LOCALES, catalog_dir, default_registry
from dantoc.i18n.selection import COOKIE, PICKED
from tests.factories import PASSWORD, make_user

#: BCP 47 shape: language (2–3 letters), optional script, region, private use.
BCP47 = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?(-x(-[a-z0-9]{1,8})+)?$")
REGISTRY = default_registry()
MINORITY = [loc.tag for loc in LOCALES if loc.tag not in ("vi", "en")]


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("loc", LOCALES, ids=lambda loc: loc.tag)
def test_tags_are_bcp47_and_chains_end_in_vietnamese(loc):
    assert BCP47.match(loc.tag)
    chain = loc.chain()
    assert chain[0] == loc.tag
    if loc.tag not in ("vi", "en"):  # English falls back to its own msgids
        assert chain[-1] == "vi"


@pytest.mark.parametrize("tag, directory", [
    ("vi", "vi"), ("blt-Tavt", "blt_Tavt"), ("khb-Talu", "khb_Talu"),
    ("hmn-Latn-VN-x-vn1961", "hmn_Latn_VN@vn1961"), ("hmn-Latn-VN-x-rpa", "hmn_Latn_VN@rpa"),
])
def test_catalog_directory_names(tag, directory):
    assert catalog_dir(tag) == directory


@pytest.mark.parametrize("tag", ["../etc", "vi/../../x", "a b", "", "vi\x00"])
def test_unsafe_tags_never_become_paths(tag):
    with pytest.raises(ValueError):
        catalog_dir(tag)


def test_the_two_mong_orthographies_are_distinct_and_do_not_fall_back_to_each_other():
    vn1961, rpa = REGISTRY["hmn-Latn-VN-x-vn1961"], REGISTRY["hmn-Latn-VN-x-rpa"]
    assert vn1961.catalog_dir != rpa.catalog_dir
    assert vn1961.chain() == ("hmn-Latn-VN-x-vn1961", "vi")
    assert rpa.chain() == ("hmn-Latn-VN-x-rpa", "vi")


@pytest.mark.parametrize("tag, native, formatting", [
    ("blt-Tavt", "ꪼꪕꪒꪾ", "vi"),  # CLDR has blt only at core level: Vietnamese formats
    ("lo", "ລາວ", "lo"),  # full CLDR data
    ("ium", None, "vi"), ("hni", None, "vi"), ("hmn-Latn-VN-x-rpa", None, "vi"),
    ("twh-Tavt", None, "vi"), ("khb-Talu", None, "vi"), ("vi", "Tiếng Việt", "vi"),
    ("en", "English", "en"),
])
def test_native_names_only_from_cldr_and_formatting_falls_back(tag, native, formatting):
    loc = REGISTRY[tag]
    assert loc.native_name == native
    assert loc.formatting_locale == formatting
    assert loc.name_vi in loc.display_name


def test_registry_lookup_is_case_insensitive_and_rejects_unknown_fallbacks():
    assert REGISTRY.get("BLT-tavt").tag == "blt-Tavt"
    assert REGISTRY.get("xx") is None
    with pytest.raises(ValueError, match="unknown fallback"):
        default_registry([{"tag": "qaa", "name_vi": "Thử", "fallbacks": ("zz",)}])


@pytest.mark.parametrize("headers, query, expected", [
    ({}, "", "vi"),
    # Vietnamese whatever the browser prefers (issue 16): only a choice changes it.
    ({"Accept-Language": "en-GB,en;q=0.9"}, "", "vi"),
    ({"Accept-Language": "blt,vi;q=0.5"}, "", "vi"),
    ({"Accept-Language": "fr-FR"}, "", "vi"),
    ({"Accept-Language": "en"}, "?lang=ium", "ium"),
    ({}, "?lang=HMN-latn-vn-x-rpa", "hmn-Latn-VN-x-rpa"),
    ({}, "?lang=../../etc", "vi"),
])
def test_locale_selection(client, headers, query, expected):
    assert html_lang(client.get("/" + query, headers=headers)) == expected


def test_cookie_then_user_preference_win_over_the_browser(client, login):
    client.set_cookie(COOKIE, "ium")
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "ium"
    user = make_user("province_officer")
    user.locale = "hni"
    db.session.commit()
    login(user)
    assert html_lang(client.get("/catalogs/", headers={"Accept-Language": "en"})) == "hni"


def test_a_choice_made_before_sign_in_carries_over_to_the_profile(client):
    user = make_user("province_officer")
    assert user.locale != "en"
    assert client.post("/i18n/locale", data={"locale": "en", "next": "/"}).status_code == 303
    assert html_lang(client.get("/", headers={"Accept-Language": "vi"})) == "en"
    response = client.post("/accounts/login?password=1", data={
        "username": user.username, "password": PASSWORD})
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.locale == "en"
    assert client.get_cookie(PICKED) is None  # carried over once, not at every sign-in
    client.delete_cookie(COOKIE)  # another device: the profile still says English
    assert html_lang(client.get("/catalogs/")) == "en"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.locale"))
    assert event.after == {"locale": "en"}


def test_switch_remembers_per_device_and_per_user(client, login):
    user = make_user("village_head", unit_code=None)
    login(user)
    response = client.post("/i18n/locale", data={"locale": "blt-Tavt",
                                                 "next": "/catalogs/?q=x&lang=en"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/catalogs/?q=x"  # ?lang= would override it
    cookie = client.get_cookie(COOKIE)
    assert cookie.value == "blt-Tavt" and cookie.http_only
    db.session.refresh(user)
    assert user.locale == "blt-Tavt"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.locale"))
    assert event.after == {"locale": "blt-Tavt"} and event.object_id == str(user.id)


@pytest.mark.parametrize("data, status, location", [
    ({"locale": "en", "next": "https://evil.example/"}, 303, "/"),
    ({"locale": "en", "next": "//evil.example/"}, 303, "/"),
    ({"locale": "xx-unknown", "next": "/"}, 400, None),
    ({"next": "/"}, 400, None),
])
def test_switch_refuses_unknown_locales_and_foreign_redirects(client, data, status, location):
    response = client.post("/i18n/locale", data=data)
    assert response.status_code == status
    if location:
        assert response.headers["Location"] == location
    else:
        assert client.get_cookie(COOKIE) is None


@pytest.mark.parametrize(("path", "action"), [
    ("/accounts/login", 'method="post" action="/i18n/locale"'),
    ("/", 'method="get" action="/"'),  # public pages: cacheable, no CSRF token (documents)
])
def test_switch_is_a_select_with_every_offered_locale(client, path, action):
    html = client.get(path).get_data(as_text=True)
    form = re.search(r'<form class="lang".*?</form>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]+)"', form) == [loc.tag for loc in LOCALES]
    assert action in form and 'type="submit"' in form
    assert '<option value="vi" lang="vi" selected>' in form


@pytest.mark.parametrize("tag", [loc.tag for loc in LOCALES])
def test_script_font_stylesheet_only_where_the_script_needs_it(client, tag):
    html = client.get(f"/?lang={tag}").get_data(as_text=True)
    links = re.findall(r'<link rel="stylesheet" href="([^"?]+)\?v=[0-9a-f]{12}"', html)
    expected = {"blt-Tavt": ["/static/css/fonts-tavt.css"],
                "twh-Tavt": ["/static/css/fonts-tavt.css"],
                "khb-Talu": ["/static/css/fonts-talu.css"]}.get(tag, [])
    assert links == expected


@pytest.mark.parametrize("name, block", [("fonts-tavt.css", "U+AA80-AADF"),
                                          ("fonts-talu.css", "U+1980-19DF")])
def test_font_stylesheets_use_the_vendored_script_subset(client, name, block):
    css = (ROOT / "static" / "css" / name).read_text(encoding="utf-8")
    assert "unicode-range: U+" in css and block in css
    for url in re.findall(r'url\("\.\./vendor/fonts/([^"]+)"\)', css):
        assert (ROOT / "static" / "vendor" / "fonts" / url).is_file(), (
            f"{url} missing: run scripts/build-assets")
    response = client.get(f"/static/css/{name}")
    response.close()
    assert response.status_code == 200 and response.mimetype == "text/css"

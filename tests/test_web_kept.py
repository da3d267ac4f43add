"""The page chrome is rendered once per locale and role and kept (issue 17: server CPU per
request, dantoc/web/kept.py): every request still gets its own CSRF token, user name, owner
id and address, each role its own navigation, a shared public page no token at all, and a
locale whose text lives in the database its newest strings."""

from __future__ import annotations

import re

from dantoc.extensions import db
from dantoc.i18n.models import InterfaceTranslation
from dantoc.pwa.services import owner_id
from dantoc.web import kept
from tests.client import FreshClient
from tests.factories import make_user, signed_in
from tests.i18n_support import (  # noqa: F401  (fixtures)
    TEST_TAG,
    qaa_app,
    qaa_client,
    qaa_translations,
)

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _page(app, user, url: str = "/accounts/me"):
    client = signed_in(FreshClient(app), user)
    with client.session_transaction() as session:  # this session's own CSRF token
        session.pop("csrf_token", None)
    return client.get(url).get_data(as_text=True)


def _top(html: str) -> str:
    return html[html.index("<body"):html.index("</header>")]


def test_two_people_of_one_role_get_their_own_values_from_one_kept_top(app):
    kept.clear()
    first, second = (make_user("village_head", username=name) for name in ("ho-a", "ho-b"))
    one, two = _page(app, first), _page(app, second)
    assert "(ho-a)" in one and "(ho-b)" in two and "ho-a" not in two
    assert f'data-user="{owner_id(first)}"' in one and f'data-user="{owner_id(second)}"' in two
    tokens_one, tokens_two = set(TOKEN.findall(one)), set(TOKEN.findall(two))
    assert len(tokens_one) == len(tokens_two) == 1 and tokens_one != tokens_two
    assert f'"X-CSRFToken": "{tokens_two.pop()}"' in two
    assert '<input type="hidden" name="next" value="/accounts/me">' in two
    variants = app.extensions[kept.EXTENSION].kept
    assert {key[0] for key in variants} == {"top", "switch"} and len(variants) == 2
    assert "\x00" not in one + two


def test_each_role_gets_its_own_navigation(app):
    kept.clear()
    head = _page(app, make_user("village_head"))
    province = _page(app, make_user("province_officer", unit_code=None))
    assert 'href="/indicators/"' not in _top(head)
    assert 'href="/indicators/"' in _top(province)
    assert 'id="storage-warning"' in head and 'id="storage-warning"' not in province


def test_a_shared_public_page_after_a_kept_signed_in_page_carries_no_token(app):
    kept.clear()
    _page(app, make_user("village_head"))
    client = FreshClient(app)
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert "csrf_token" not in html and "X-CSRFToken" not in html
    assert response.headers.get("Set-Cookie") is None
    assert '<form class="lang" method="get" action="/">' in html


def test_a_locale_with_database_strings_is_never_kept(qaa_app, qaa_client):  # noqa: F811
    signed_in(qaa_client, make_user("village_head", locale=TEST_TAG))
    db.session.add(InterfaceTranslation(locale=TEST_TAG, msgid="Send now", text="QAA gửi 1"))
    db.session.commit()
    assert "QAA gửi 1" in qaa_client.get("/accounts/me").get_data(as_text=True)
    row = db.session.query(InterfaceTranslation).one()
    row.text = "QAA gửi 2"
    db.session.commit()
    html = qaa_client.get("/accounts/me").get_data(as_text=True)
    assert "QAA gửi 2" in html and "QAA gửi 1" not in html
    assert not qaa_app.extensions[kept.EXTENSION].kept


def test_nothing_is_kept_while_templates_reload_when_edited(app):
    """A debug server reloads an edited template: its chrome and forms are not kept."""
    kept.clear()
    app.jinja_env.auto_reload = True
    try:
        assert "(ho-c)" in _page(app, make_user("village_head", username="ho-c"))
    finally:
        app.jinja_env.auto_reload = False
    assert not app.extensions[kept.EXTENSION].kept

"""The shared public pages (home, library, a document, statistics) as an anonymous visitor
sees them: no session cookie, ``Cache-Control: public`` with an ETag, a 304 on revalidation,
a GET language picker; signed-in pages stay ``no-store``. And the home page's key figures,
taken from the latest published release and suppressed exactly as the statistics pages."""

from __future__ import annotations

import pytest

from dantoc.extensions import db
from tests.documents_support import sample_library, use_storage
from tests.factories import make_user
from tests.test_statistics_support import citizen, make_published

DOCUMENT = "/van-ban/quyet-dinh-414-qd-ttg"


@pytest.fixture
def site(app, tmp_path):
    use_storage(app, tmp_path)
    sample_library()
    db.session.commit()
    return make_published()


def shared_urls(site) -> list[str]:
    return ["/", "/van-ban", "/van-ban?q=quyet+dinh+414", DOCUMENT, "/thong-ke/",
            site.release_url, site.commune_url()]


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_anonymous_public_pages_are_shared_and_revalidate(app, site, encoding):
    for url in shared_urls(site):
        client = citizen(app)
        first = client.get(url, headers={"Accept-Encoding": encoding})
        assert first.status_code == 200, url
        assert "Set-Cookie" not in first.headers, url
        assert first.headers["Cache-Control"].startswith("public, max-age="), url
        etag = first.headers["ETag"]
        assert etag, url
        html = first.get_data(as_text=True) if encoding == "identity" else ""
        assert "csrf_token" not in html and "X-CSRFToken" not in html, url
        again = client.get(url, headers={"Accept-Encoding": encoding, "If-None-Match": etag})
        assert again.status_code == 304, url
        assert "Set-Cookie" not in again.headers, url
        assert not again.data


def test_the_statistics_language_picker_is_a_get_form(app, site):
    client = citizen(app)
    html = client.get("/thong-ke/").get_data(as_text=True)
    assert '<form class="lang" method="get" action="/thong-ke/">' in html
    chosen = client.get("/thong-ke/?locale=en")
    assert chosen.status_code == 303
    assert chosen.headers["Location"] == "/thong-ke/"
    assert any(c.startswith("locale=en;") for c in chosen.headers.getlist("Set-Cookie"))
    page = client.get("/thong-ke/")
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in page.headers
    assert client.get(site.commune_url() + "?locale=nonsense").status_code == 303


@pytest.mark.parametrize("role", ["province_officer", "commune_officer"])
def test_signed_in_public_pages_are_private(app, site, login, client, role):
    login(make_user(role, unit_code="03388" if role == "commune_officer" else "12"))
    for url in ["/van-ban", DOCUMENT, "/thong-ke/", site.commune_url()]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        html = response.get_data(as_text=True)
        assert 'action="/i18n/locale"' in html and 'name="csrf_token"' in html, url

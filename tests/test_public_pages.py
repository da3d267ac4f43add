"""The shared public pages (home, library, a document, statistics) as an anonymous visitor
sees them: no session cookie, ``Cache-Control: public`` with an ETag, a 304 on revalidation,
a GET language picker; signed-in pages stay ``no-store``. And the home page's key figures,
taken from the latest published release and suppressed exactly as the statistics pages."""

from __future__ import annotations

import re

import pytest

from dantoc.extensions import db
from dantoc.statistics import services as publication
from tests.documents_support import sample_library, use_storage
from tests.factories import make_user
from tests.test_reports_support import COMMUNE, OTHER_COMMUNE
from tests.test_statistics_support import citizen, make_published

DOCUMENT = "/van-ban/quyet-dinh-414-qd-ttg"
#: About what the answer's headers take of the first 14 KB flight (docs/benchmarks.md).
HEADERS = 1024


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


def figures_of(html: str) -> dict[str, str]:
    """The home page's key figures: label → shown value."""
    block = html.split('<dl class="receipt">', 1)[1].split("</dl>", 1)[0]
    labels = re.findall(r"<dt>(.*?)</dt>", block)
    values = re.findall(r"<dd>(.*?)</dd>", block)
    return dict(zip(labels, values, strict=True))


def test_home_shows_the_key_published_figures_with_period_and_source(app, site):
    html = citizen(app).get("/").get_data(as_text=True)
    # 2 communes: households 18 + 50, poor 3 + 10 (the 3 and the 10 are hidden on the
    # statistics pages, their total 13 is not), population 12 + 3 + 22 + 40.
    assert figures_of(html) == {"Tổng số hộ": "68 hộ", "Số hộ nghèo": "13",
                                "Tỷ lệ hộ nghèo": "19,1%", "Số nhân khẩu": "77 người"}
    assert "Quý 4/2026" in html
    assert "Nguồn: báo cáo của 2 xã, đã được tỉnh duyệt và công bố." in html
    assert f'href="{site.release_url}"' in html and 'href="/thong-ke/">Thống kê</a>' in html
    compressed = citizen(app).get("/", headers={"Accept-Encoding": "br"})
    assert compressed.headers["Content-Encoding"] == "br"
    assert len(compressed.data) + HEADERS <= 14 * 1024, len(compressed.data)
    release = citizen(app).get(site.release_url).get_data(as_text=True)
    assert "<td>13</td>" in release and "<td>77</td>" in release  # the same totals


def test_home_figures_follow_a_withdrawal_and_the_language(app, site):
    client = citizen(app)
    before = client.get("/")
    assert figures_of(before.get_data(as_text=True))["Tổng số hộ"] == "68 hộ"
    publication.withdraw(site.reports[OTHER_COMMUNE], site.province, 1, "Cần rà soát lại")
    db.session.commit()
    after = client.get("/", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    html = after.get_data(as_text=True)
    assert figures_of(html) == {"Tổng số hộ": "18 hộ", "Số nhân khẩu": "15 người"}
    assert "Nguồn: báo cáo của 1 xã" in html
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Key figures" in english and "Source: the report of 1 commune" in english


def test_home_never_shows_a_figure_the_statistics_pages_hide(app, tmp_path):
    use_storage(app, tmp_path)
    site = make_published(publish=False)
    publication.publish(site.reports[COMMUNE], site.province, 0)
    db.session.commit()
    # One commune: 3 poor households, so the poor households' total is 3 and is hidden.
    release = citizen(app).get(site.release_url).get_data(as_text=True)
    assert "&lt;5" in release and "<td>3</td>" not in release
    figures = figures_of(citizen(app).get("/").get_data(as_text=True))
    assert figures == {"Tổng số hộ": "18 hộ", "Số nhân khẩu": "15 người"}


def test_home_without_published_figures_has_no_figures_section(app, tmp_path):
    use_storage(app, tmp_path)
    make_published(publish=False)
    html = citizen(app).get("/").get_data(as_text=True)
    assert '<dl class="receipt">' not in html and "Số liệu chính" not in html

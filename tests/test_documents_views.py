"""The public pages: home, library, document, group, file, robots.txt, sitemap; caching,
budgets and bad input."""

from __future__ import annotations

import re

import brotli
import pytest
import sqlalchemy as sa

from dantoc.documents import services
from dantoc.extensions import db
from tests.documents_support import make_pdf, new_document, sample_library, use_storage
from tests.factories import make_user

BUDGET = 14 * 1024
PAGES = ["/", "/van-ban", "/van-ban?q=quyet+dinh+414", "/van-ban/quyet-dinh-414-qd-ttg",
         "/van-ban/nhom/chinh-sach-dan-toc"]


@pytest.fixture
def library(app, tmp_path):
    use_storage(app, tmp_path)
    documents = sample_library()
    qd414 = next(d for d in documents if d.number == "414/QĐ-TTg")
    services.attach_file(qd414, make_pdf("De an 414 (ban mau)"), "Quyết định 414.pdf")
    db.session.commit()
    return documents


def text(response) -> str:
    return response.get_data(as_text=True)


def test_home_names_the_agency_and_shows_documents_and_notices(client, library):
    page = text(client.get("/"))
    assert "Sở Dân tộc và Tôn giáo tỉnh Lai Châu" in page
    assert "1670/NQ-UBTVQH15" in page  # among the latest
    assert "Thư viện văn bản đã có trên cổng thông tin (mẫu)" in page
    assert 'name="locale"' in page and "csrf_token" not in page
    assert '<meta name="description"' in page


def test_the_agency_is_configurable(app, client, library):
    app.config["AGENCY_NAME"] = "Ban Dân tộc tỉnh Thử"
    assert "Ban Dân tộc tỉnh Thử" in text(client.get("/"))


def test_search_without_diacritics_finds_the_document(client, library):
    page = text(client.get("/van-ban?q=quyet+dinh+414"))
    assert "1 văn bản" in page
    assert 'href="/van-ban/quyet-dinh-414-qd-ttg"' in page


def test_document_page_shows_metadata_links_and_file(client, library):
    page = text(client.get("/van-ban/thong-tu-02-2018-tt-ubdt"))
    assert "Đỗ Văn Chiến" in page and "05/11/2018" in page and "01/01/2019" in page
    assert "Còn hiệu lực" in page
    assert "thay thế" in page and "/van-ban/thong-tu-03-2015-tt-ubdt" in page
    assert "Dữ liệu mẫu" in page
    old = text(client.get("/van-ban/thong-tu-03-2015-tt-ubdt"))
    assert "Hết hiệu lực" in old and "từ 01/01/2019" in old and "được thay thế bởi" in old
    empty = text(client.get("/van-ban/quyet-dinh-414-qd-ttg"))
    assert "Người ký</dt><dd>—" in empty  # the sources name no signer: it stays empty


def test_file_download_is_an_attachment_of_the_real_type(client, library):
    page = text(client.get("/van-ban/quyet-dinh-414-qd-ttg"))
    href = re.search(r'href="(/van-ban/quyet-dinh-414-qd-ttg/tep/\d+)"', page).group(1)
    response = client.get(href)
    response.close()  # a file response: release the file
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=quyet-dinh-414.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with client.get(href) as again:
        assert again.data.startswith(b"%PDF-")


def test_drafts_internal_and_unknown_are_not_found(client, library):
    group = library[0].group
    new_document(group, "5/KH-UBND", "Kế hoạch nội bộ", doc_type="ke_hoach",
                 visibility="internal")
    new_document(group, "6/KH-UBND", "Kế hoạch nháp", doc_type="ke_hoach", publish=False)
    db.session.commit()
    for url in ("/van-ban/ke-hoach-5-kh-ubnd", "/van-ban/ke-hoach-6-kh-ubnd",
                "/van-ban/khong-co", "/van-ban/nhom/khong-co",
                "/van-ban/quyet-dinh-414-qd-ttg/tep/999999"):
        assert client.get(url).status_code == 404, url
    assert "5/KH-UBND" not in text(client.get("/van-ban?q=ke+hoach"))


@pytest.mark.parametrize("query", [
    "q=" + "x" * 10_000, "q=%22", "q=*", "q=NEAR", "q=a%3Ab", "q=%27%3B+DROP+TABLE+documents",
    "page=99999", "page=-5", "page=abc", "page=" + "9" * 40, "group=99999", "group=abc",
    "year=abc", "year=0", "doc_type=bogus", "in_force=maybe", "issuer=nobody",
    "q=" + "quy%E1%BA%BFt+" * 3000,
])
def test_bad_input_gets_a_page_not_an_error(client, library, query):
    response = client.get("/van-ban?" + query)
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(
        sa.table("documents"))) == 14


def test_unknown_filters_are_said_to_be_ignored(client, library):
    page = text(client.get("/van-ban?group=99999"))
    assert "không hợp lệ nên đã được bỏ qua" in page
    assert "14 văn bản" in page


def test_a_page_past_the_end_shows_the_last_page(client, library):
    page = text(client.get("/van-ban?page=99999"))
    assert "Trang 1 / 1" not in page  # 14 documents fit on one page: no pager
    assert "14 văn bản" in page


def test_filters_on_the_page(client, library):
    page = text(client.get("/van-ban?doc_type=nghi_quyet"))
    assert "1 văn bản" in page and "1670/NQ-UBTVQH15" in page
    page = text(client.get("/van-ban?year=2019&q=de+an"))
    assert "1 văn bản" in page and "414/QĐ-TTg" in page


def test_group_page_lists_the_subtree(client, library):
    page = text(client.get("/van-ban/nhom/van-ban-trung-uong"))
    assert "13 văn bản" in page and "Chính sách dân tộc" in page


@pytest.mark.parametrize("url", PAGES)
def test_public_pages_are_cacheable_with_an_etag(client, library, url):
    first = client.get(url, headers={"Accept-Encoding": "br"})
    assert first.status_code == 200
    assert first.headers["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in first.headers
    etag = first.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304
    assert len(first.data) <= BUDGET, (url, len(first.data))
    assert len(brotli.decompress(first.data)) > len(first.data)


def test_signed_in_pages_are_not_stored(client, library, login):
    login(make_user("province_officer"))
    response = client.get("/van-ban")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_language_picker_remembers_the_choice(client, library):
    response = client.get("/van-ban?q=414&locale=en")
    assert response.status_code == 303
    assert response.headers["Location"] == "/van-ban?q=414"
    assert "locale=en" in response.headers["Set-Cookie"]
    page = client.get("/van-ban?q=414")
    assert '<html lang="en">' in text(page)
    assert page.headers["Cache-Control"].startswith("public")
    assert "Accept-Language" in page.headers["Vary"] and "Cookie" in page.headers["Vary"]
    assert client.get("/?locale=nonsense").status_code == 303
    shared = client.get("/van-ban?lang=vi")
    assert shared.headers["Cache-Control"] == "private, no-cache"


def test_robots_and_sitemap(client, library):
    robots = text(client.get("/robots.txt"))
    assert "Disallow: /\n" in robots and "Allow: /van-ban" in robots
    assert "Allow: /thong-ke/\n" in robots and "Disallow: /thong-ke/cong-bo/\n" in robots
    assert "Sitemap: http://localhost/sitemap.xml" in robots
    sitemap = text(client.get("/sitemap.xml"))
    assert sitemap.count("<url>") == 2 + 5 + 14
    assert "http://localhost/van-ban/nghi-quyet-1670-nq-ubtvqh15" in sitemap


def test_slugs_have_no_diacritics(library):
    for document in library:
        assert re.fullmatch(r"[a-z0-9-]+", document.slug), document.slug

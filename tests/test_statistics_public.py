"""The public statistics pages: published and still-approved reports only, labels not codes,
source and period, "<5" for small counts, caching, and a withdrawn report disappearing."""

from __future__ import annotations

import pytest

from dantoc.clock import local_day
from dantoc.extensions import db
from dantoc.statistics import services as publication
from tests.test_reports_support import COMMUNE, OTHER_COMMUNE
from tests.test_statistics_support import citizen, make_published


@pytest.fixture
def published(app):
    return make_published()


def test_commune_page_shows_labels_source_and_small_counts(app, published):
    response = citizen(app).get(published.commune_url())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Thái – Nữ" in html and "Kinh (Việt) – Nam" in html
    assert "ethnic_group=" not in html
    assert "Quý 4/2026" in html
    assert "&lt;5" in html  # Thái – Nữ = 3 in this commune
    report = published.reports[COMMUNE]
    assert report.decided_by.full_name in html
    # The day in the province, not in UTC (from 17:00 UTC it is already the next day there).
    assert local_day(report.decided_at).strftime("%d/%m/%Y") in html
    assert '<meta name="description"' in html


def test_release_page_lists_both_communes_and_csv(app, published):
    html = citizen(app).get(published.release_url).get_data(as_text=True)
    assert published.commune_url(OTHER_COMMUNE) in html
    assert published.commune_url(COMMUNE) in html
    assert published.csv_url() in html
    index = citizen(app).get("/thong-ke/").get_data(as_text=True)
    assert published.release_url in index


def test_public_pages_cache_publicly_with_an_etag(app, published):
    client = citizen(app)
    first = client.get(published.commune_url())
    assert "public" in first.headers["Cache-Control"]
    assert first.headers.get("ETag")
    again = client.get(published.commune_url(),
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_compressed_answer_revalidates_with_304(app, published):
    client = citizen(app)
    headers = {"Accept-Encoding": "gzip"}
    first = client.get(published.release_url, headers=headers)
    assert first.headers["Content-Encoding"] == "gzip"
    assert first.headers["ETag"].endswith(':gzip"')
    again = client.get(published.release_url,
                       headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["ETag"] == first.headers["ETag"]


def test_unpublished_report_is_not_public(app):
    published = make_published(publish=False)
    assert citizen(app).get(published.commune_url()).status_code == 404
    assert published.release_url not in citizen(app).get("/thong-ke/").get_data(as_text=True)


def test_withdrawn_report_disappears_and_etag_changes(app, published):
    client = citizen(app)
    before = client.get(published.release_url)
    assert published.commune_url(COMMUNE) in before.get_data(as_text=True)
    report = published.reports[COMMUNE]
    publication.withdraw(report, published.province, 1, "Số liệu cần rà soát lại")
    db.session.commit()
    after = client.get(published.release_url,
                       headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    html = after.get_data(as_text=True)
    assert published.commune_url(COMMUNE) not in html
    assert published.commune_url(OTHER_COMMUNE) in html
    assert client.get(published.commune_url(COMMUNE)).status_code == 404
    csv = client.get(published.csv_url()).get_data(as_text=True)
    assert COMMUNE not in csv and OTHER_COMMUNE in csv


def test_reopened_report_disappears(app, published):
    from dantoc.reports import services

    report = published.reports[COMMUNE]
    services.decide(report, "reopen", published.province, report.version, "Sai số hộ")
    db.session.commit()
    assert citizen(app).get(published.commune_url(COMMUNE)).status_code == 404


@pytest.mark.parametrize("path", ["/thong-ke/NOPE/2026-Q4/", "/thong-ke/NOPE/2026-Q4/xa/1",
                                  "/thong-ke/NOPE/2026-Q4/population.csv"])
def test_unknown_release_is_404(app, published, path):
    assert citizen(app).get(path).status_code == 404


def test_unknown_table_and_commune_are_404(app, published):
    client = citizen(app)
    assert client.get(published.csv_url("nope")).status_code == 404
    assert client.get(published.commune_url("99999")).status_code == 404


def test_public_figures_are_the_approved_report_figures(app, published):
    """The one-query sums agree with the report page's aggregation of the same report."""
    from dantoc.reports import aggregate, queries
    from dantoc.statistics import tables

    w = published.world
    with app.test_request_context():
        release = tables.build(w.version.form, w.period)
        for row, source in enumerate(release.sources):
            computed = aggregate.compute(queries.target_of(source.report), source.report)
            population = release.table("population")
            keys = ["ethnic_group=01;sex=male", "ethnic_group=03;sex=female"]
            assert [population.data.value(row, c) for c in range(2)] == [
                int(computed.value("population", k)) for k in keys]
            general = release.table("chung")
            assert general.data.value(row, 0) == int(computed.value("households"))
            assert general.data.value(row, 1) == int(computed.value("poor_households"))

"""Search that forgives missing diacritics: the same answers on SQLite (FTS5) and PostgreSQL
(tsvector), run on whichever engine this pytest run uses (DANTOC_TEST_ENGINE)."""

from __future__ import annotations

from datetime import date

import pytest

from dantoc.documents import search, services
from dantoc.documents.search import Filters, fold, terms
from dantoc.extensions import db
from tests.documents_support import (
    make_pdf,
    new_document,
    new_group,
    sample_library,
    use_storage,
)

#: query → the number of the document a person means, and the rank it must have at worst.
PAIRS = [
    ("quyet dinh 414", "414/QĐ-TTg", 1),
    ("Quyết định 414", "414/QĐ-TTg", 1),
    ("quyết định 414", "414/QĐ-TTg", 1),
    ("QUYET DINH 414", "414/QĐ-TTg", 1),
    ("quyet dinh  414 !!", "414/QĐ-TTg", 1),
    ("de an 414", "414/QĐ-TTg", 1),
    ("Đề án 414", "414/QĐ-TTg", 1),
    ("414/QĐ-TTg", "414/QĐ-TTg", 1),
    ("ho ngheo", "02/2018/TT-UBDT", 1),
    ("hộ nghèo", "02/2018/TT-UBDT", 1),
    ("dan toc thieu so", "414/QĐ-TTg", 2),
    ("dan toc thieu so", "06/2014/TT-UBDT", 2),
    ("nghi quyet 1670", "1670/NQ-UBTVQH15", 1),
    ("sap xep don vi hanh chinh cap xa lai chau", "1670/NQ-UBTVQH15", 1),
    ("tran thanh man", "1670/NQ-UBTVQH15", 1),
    ("giang seo phu", "03/2015/TT-UBDT", 1),
    ("do van chien 2018", "02/2018/TT-UBDT", 1),
    ("thong tu 06/2014", "06/2014/TT-UBDT", 1),
    ("chi tieu thong ke 2019", "03/2019/TT-UBDT", 1),
    ("cong van 585", "585/UBDT-KHTC", 1),
    ("khai thac ket qua dieu tra", "585/UBDT-KHTC", 1),
    ("06/2025/TT-BDTTG", "06/2025/TT-BDTTG", 1),
    ("ho van nien", "09/2025/TT-BDTTG", 1),
    ("chuc nang so dan toc va ton giao", "02/2025/TT-BDTTG", 1),
    ("ksor phuoc", "291/QĐ-UBDT", 1),
    ("935 ubdt", "935/UBDT-TTTT", 1),
    ("thong tu 02/2010", "02/2010/TT-UBDT", 1),
    ("dao ngoc dung", "02/2025/TT-BDTTG", 1),
    # words found only in the text of an attached PDF
    ("cong thong tin dien tu", "99/QĐ-UBND", 1),
    # a prefix of the last word, as typed on a phone
    ("quyet dinh 41", "414/QĐ-TTg", 1),
]


@pytest.fixture
def library(app, tmp_path):
    use_storage(app, tmp_path)
    documents = sample_library()
    group = new_group("Văn bản của tỉnh")
    pdf_doc = new_document(group, "99/QĐ-UBND", "Ban hành quy chế (thử)",
                           issued_on=date(2024, 3, 1))
    services.attach_file(pdf_doc, make_pdf("Quy che quan ly cong thong tin dien tu"), "qc.pdf")
    new_document(group, "100/QĐ-UBND", "Quyết định 414 chưa công bố", publish=False)
    db.session.commit()
    return documents


def numbers(results) -> list[str]:
    return [d.number for d in results.items]


@pytest.mark.parametrize(("query", "number", "worst"), PAIRS)
def test_a_query_finds_the_document_a_person_means(library, query, number, worst):
    found = numbers(search.run(query))
    assert number in found[:worst], (query, found)


def test_at_least_twenty_pairs():
    assert len({query for query, _n, _w in PAIRS}) >= 20


@pytest.mark.parametrize(("query", "expected"), [
    ("quyet dinh 414", ["414/QĐ-TTg"]),
    ("ho ngheo", ["02/2018/TT-UBDT"]),
    ("tin nguong ton giao", ["02/2025/TT-BDTTG", "06/2025/TT-BDTTG", "07/2025/TT-BDTTG",
                             "09/2025/TT-BDTTG"]),
    ("dan toc thieu so", ["06/2014/TT-UBDT", "414/QĐ-TTg"]),
])
def test_the_same_list_on_both_engines(library, query, expected):
    """The whole answer: identical expectations for both engine runs."""
    found = numbers(search.run(query))
    assert sorted(found) == sorted(expected)


def test_drafts_and_internal_documents_are_not_found(library):
    assert "100/QĐ-UBND" not in numbers(search.run("quyet dinh 414"))
    assert "100/QĐ-UBND" in numbers(search.run("chua cong bo", Filters(public_only=False)))


def test_fold_and_terms():
    assert fold("Đề án 414/QĐ-TTg") == "de an 414 qd ttg"
    assert terms('NEAR "x" * : ) OR; DROP TABLE documents; --') == [
        "near", "x", "or", "drop", "table", "documents"]
    assert len(terms("từ " * 5000)) == 1
    assert len(terms(" ".join(f"w{i}" for i in range(100)))) == search.MAX_TERMS


@pytest.mark.parametrize("query", [
    '"', '""', "*", "NEAR", "NEAR(a b)", ":", "a:b", "^", "-", "(", ")", "'", "\\",
    "'; DROP TABLE documents; --", "\" OR 1=1 --", "AND OR NOT", "x" * 10_000,
    "quyết " * 2_000, "\u0000", "🙂", "",
])
def test_hostile_queries_answer_without_error(library, query):
    results = search.run(query)
    assert results.total >= 0
    assert db.session.scalar(db.text("SELECT count(*) FROM documents")) == 16


def test_filters(library):
    assert numbers(search.run("", Filters(year=2019))) == ["03/2019/TT-UBDT", "414/QĐ-TTg"]
    assert set(numbers(search.run("", Filters(doc_type="nghi_quyet")))) == {"1670/NQ-UBTVQH15"}
    assert numbers(search.run("thong tu", Filters(in_force=True))) == ["02/2018/TT-UBDT"]
    assert set(numbers(search.run("", Filters(in_force=False)))) == {
        "06/2014/TT-UBDT", "03/2015/TT-UBDT"}
    assert set(numbers(search.run("", Filters(issuer="Thủ tướng Chính phủ")))) == {
        "414/QĐ-TTg"}
    policy = next(d.group for d in library if d.number == "414/QĐ-TTg")
    assert set(numbers(search.run("", Filters(group_ids=[policy.id])))) == {
        "414/QĐ-TTg", "935/UBDT-TTTT"}
    top = policy.parent
    assert len(numbers(search.run("", Filters(group_ids=services.group_ids_under(top)),
                                  per_page=50))) == 13


def test_pages(library):
    first = search.run("", per_page=5)
    assert (first.total, first.pages, first.page) == (15, 3, 1)
    last = search.run("", page=99999, per_page=5)
    assert last.page == 3 and len(last.items) == 5
    everything = numbers(first) + numbers(search.run("", page=2, per_page=5)) + numbers(last)
    assert len(set(everything)) == 15
    assert everything[0] == "02/2025/TT-BDTTG" or everything[0].endswith("2025/TT-BDTTG")


def test_search_text_follows_edits(library):
    document = next(d for d in library if d.number == "585/UBDT-KHTC")
    assert numbers(search.run("thu nghiem lĩnh vực")) == []
    services.update_document(document, field="Lĩnh vực thử nghiệm")
    db.session.commit()
    assert numbers(search.run("thu nghiem linh vuc")) == ["585/UBDT-KHTC"]

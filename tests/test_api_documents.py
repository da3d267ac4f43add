"""The document services: groups, documents (metadata, links, files) and downloads. Public
documents are open data; internal ones need a token with ``api.documents`` (on both
engines)."""

from __future__ import annotations

from datetime import date

import pytest

from dantoc.documents import services
from dantoc.extensions import db
from tests.api_support import PROBLEM, all_pages, make_client
from tests.documents_support import make_docx, make_pdf, new_document, new_group, use_storage


@pytest.fixture
def library(app, tmp_path):
    """A group tree, a public decision with a PDF that guides an older one, an internal
    plan with a DOCX, a draft (never shown)."""
    use_storage(app, tmp_path)
    parent = new_group("Chính sách dân tộc")
    child = services.save_group(None, name="Giảm nghèo", parent=parent)
    old = new_document(child, "12/2020/QĐ-UBND", "Quy định cũ", validity="expired",
                       validity_changed_on=date(2025, 1, 1))
    public = new_document(child, "414/QĐ-UBND", "Phê duyệt chương trình giảm nghèo",
                          signer="Nguyễn Văn A", issued_on=date(2026, 3, 2),
                          effective_on=date(2026, 3, 15), validity="in_force",
                          field="Dân tộc", doc_type="quyet_dinh")
    pdf = services.attach_file(public, make_pdf("giam ngheo"), "../../Quyết định 414.pdf")
    services.add_link(public, old, "replaces")
    internal = new_document(parent, "7/KH-BDT", "Kế hoạch nội bộ", visibility="internal",
                            doc_type="ke_hoach")
    docx = services.attach_file(internal, make_docx(), "ke hoach.docx")
    services.add_link(internal, public, "guides")
    draft = new_document(parent, "9/QĐ-NHAP", "Dự thảo", publish=False)
    db.session.commit()
    return {"parent": parent, "child": child, "old": old, "public": public, "pdf": pdf,
            "internal": internal, "docx": docx, "draft": draft}


def numbers(items) -> set[str]:
    return {d["number"] for d in items}


def test_public_documents_are_open_data_with_their_metadata(client, library):
    items, _pages = all_pages(client, "/api/v1/documents", {}, limit=1)
    assert numbers(items) == {"12/2020/QĐ-UBND", "414/QĐ-UBND"}
    doc = next(d for d in items if d["number"] == "414/QĐ-UBND")
    pdf = library["pdf"]
    assert doc == {
        "id": library["public"].id, "number": "414/QĐ-UBND", "state": "published",
        "doc_type": "quyet_dinh", "type_name": "Quyết định", "issuer": "UBND tỉnh Lai Châu",
        "signer": "Nguyễn Văn A", "issued_on": "2026-03-02", "effective_on": "2026-03-15",
        "validity": "in_force", "validity_changed_on": None,
        "summary": "Phê duyệt chương trình giảm nghèo", "field": "Dân tộc",
        "visibility": "public", "group": library["child"].slug,
        "links": [{"kind": "replaces", "direction": "outgoing",
                   "document": "12/2020/QĐ-UBND"}],  # the internal plan's link is not told
        "files": [{"id": pdf.id, "filename": pdf.filename, "kind": "pdf",
                   "media_type": "application/pdf", "size": pdf.size, "sha256": pdf.sha256,
                   "url": f"/api/v1/documents/{library['public'].id}/files/{pdf.id}"}],
        "published_at": doc["published_at"], "updated_at": doc["updated_at"]}
    old = next(d for d in items if d["number"] == "12/2020/QĐ-UBND")
    assert old["validity"] == "expired" and old["validity_changed_on"] == "2025-01-01"
    assert old["links"] == [{"kind": "replaces", "direction": "incoming",
                             "document": "414/QĐ-UBND"}]


def test_internal_documents_need_a_token_with_the_documents_verb(client, library):
    internal = library["internal"]
    _client, scoped = make_client()
    _other, unscoped = make_client(role="department_officer")  # no api.documents
    assert numbers(client.get("/api/v1/documents").get_json()["items"]) == {
        "12/2020/QĐ-UBND", "414/QĐ-UBND"}
    assert numbers(client.get("/api/v1/documents", headers=unscoped).get_json()["items"]) == {
        "12/2020/QĐ-UBND", "414/QĐ-UBND"}
    seen = client.get("/api/v1/documents", headers=scoped).get_json()["items"]
    assert numbers(seen) == {"12/2020/QĐ-UBND", "414/QĐ-UBND", "7/KH-BDT"}  # no draft
    plan = next(d for d in seen if d["number"] == "7/KH-BDT")
    assert plan["visibility"] == "internal" and plan["links"] == [
        {"kind": "guides", "direction": "outgoing", "document": "414/QĐ-UBND"}]
    public = next(d for d in seen if d["number"] == "414/QĐ-UBND")
    assert {"kind": "guides", "direction": "incoming", "document": "7/KH-BDT"} in public[
        "links"]
    url = f"/api/v1/documents/{internal.id}"
    assert client.get(url).status_code == 404
    assert client.get(url, headers=unscoped).status_code == 404
    assert client.get(url, headers=scoped).get_json()["number"] == "7/KH-BDT"
    draft = client.get(f"/api/v1/documents/{library['draft'].id}", headers=scoped)
    assert draft.status_code == 404 and draft.mimetype == PROBLEM
    assert draft.get_json()["title"] == "Không tìm thấy"  # Vietnamese by default


def test_a_file_downloads_as_an_attachment_with_its_type_and_a_safe_name(client, library):
    pdf, doc = library["pdf"], library["public"]
    url = f"/api/v1/documents/{doc.id}/files/{pdf.id}"
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data() == make_pdf("giam ngheo")
    disposition = response.headers["Content-Disposition"]
    assert disposition == f"attachment; filename={pdf.filename}"
    assert "/" not in pdf.filename and pdf.filename.endswith(".pdf")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["ETag"] == f'"{pdf.sha256}"'
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_an_internal_file_needs_the_verb_and_files_belong_to_their_document(client, library):
    docx, internal, public = library["docx"], library["internal"], library["public"]
    url = f"/api/v1/documents/{internal.id}/files/{docx.id}"
    assert client.get(url).status_code == 404
    _client, scoped = make_client()
    response = client.get(url, headers=scoped)
    assert response.status_code == 200 and response.mimetype == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in response.headers["Vary"]
    crossed = client.get(f"/api/v1/documents/{public.id}/files/{docx.id}", headers=scoped)
    assert crossed.status_code == 404 and crossed.mimetype == PROBLEM
    huge = client.get(f"/api/v1/documents/{public.id}/files/99999999999999999999")
    assert huge.status_code == 404  # bounded like its column, not an overflow


def test_document_groups_are_a_tree_and_filter_documents(client, library):
    items, _pages = all_pages(client, "/api/v1/document-groups", {}, limit=500)
    by_slug = {g["slug"]: g for g in items}
    parent, child = library["parent"], library["child"]
    assert by_slug[child.slug]["parent"] == parent.slug and by_slug[parent.slug][
        "parent"] is None
    assert by_slug[child.slug]["name"] == "Giảm nghèo" and by_slug[child.slug][
        "retired"] is False
    in_child = client.get("/api/v1/documents", query_string={"group": child.slug}).get_json()
    assert numbers(in_child["items"]) == {"12/2020/QĐ-UBND", "414/QĐ-UBND"}
    unknown = client.get("/api/v1/documents?group=khong-co").get_json()
    assert unknown["items"] == []


def test_a_list_page_is_304_and_a_revoked_token_is_401_not_304(client, library, runner):
    first = client.get("/api/v1/documents")
    assert first.headers["Cache-Control"] == "public, no-cache"
    tag = first.headers["ETag"]
    assert client.get("/api/v1/documents", headers={"If-None-Match": tag}).status_code == 304
    api_client, headers = make_client(name="doc-reader")
    assert runner.invoke(args=["api", "revoke-client", "doc-reader"]).exit_code == 0
    revoked = client.get("/api/v1/documents", headers=headers | {"If-None-Match": tag})
    assert revoked.status_code == 401 and revoked.get_json()["code"] == "bad_token"
    assert api_client.name == "doc-reader"

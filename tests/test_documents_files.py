"""Attachments: the type comes from the bytes, zip bombs and disguised files are refused with
a clear message and nothing is stored; accepted files are kept once under their hash."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dantoc.audit.models import AuditEvent
from dantoc.documents import files, services
from dantoc.documents.models import DocumentFile
from dantoc.extensions import db
from dantoc.refusal import FieldError
from tests.documents_support import (
    make_docx,
    make_pdf,
    make_xlsx,
    make_zip,
    make_zip_bomb,
    new_document,
    new_group,
    use_storage,
)


@pytest.fixture
def document(app, tmp_path):
    use_storage(app, tmp_path)
    found = new_document(new_group(), "1/QĐ-UBND", "Văn bản thử")
    db.session.commit()
    return found


def stored(tmp_path) -> list:
    return [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]


@pytest.mark.parametrize(("data", "kind"), [
    (make_pdf("hello"), "pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, "doc"),
    (make_docx(), "docx"),
    (make_xlsx(), "xlsx"),
])
def test_kind_comes_from_the_content(app, data, kind):
    assert files.kind_of(data) == kind


@pytest.mark.parametrize(("data", "message"), [
    (b"MZ\x90\x00" + b"\0" * 200, "Chỉ nhận tệp PDF"),                      # a renamed .exe
    (b"\x7fELF" + b"\0" * 200, "Chỉ nhận tệp PDF"),
    (b"<html><script>alert(1)</script>", "Chỉ nhận tệp PDF"),
    (make_zip({"a.txt": b"hello"}), "Chỉ nhận tệp PDF"),                    # a zip, not Office
    (make_zip({"[Content_Types].xml": b"x", "word/vbaProject.bin": b"x"}), "Chỉ nhận tệp PDF"),
    (b"PK\x03\x04 broken", "bị hỏng"),
    (b"%PDF-1.4\n garbage without objects", "bị hỏng"),
    (make_zip_bomb(), "bom zip"),
    (b"", "không có nội dung"),
])
def test_disguised_corrupt_and_bomb_files_are_refused_and_nothing_is_kept(
        document, tmp_path, data, message):
    with pytest.raises(FieldError) as refused:
        services.attach_file(document, data, "quyet-dinh.pdf")
    db.session.rollback()
    assert message in str(refused.value.message)
    assert refused.value.field == "file"
    assert stored(tmp_path) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentFile)) == 0


def test_too_large_is_refused(app, document, tmp_path):
    app.config["DOCUMENT_MAX_BYTES"] = 1000
    with pytest.raises(FieldError, match="lớn hơn"):
        services.attach_file(document, make_pdf("x" * 2000), "big.pdf")
    assert stored(tmp_path) == []


def test_a_pdf_is_stored_once_under_its_hash_with_its_text(document, tmp_path):
    data = make_pdf("Ke hoach ho tro dong bao")
    row = services.attach_file(document, data, "../../etc/Kế hoạch (bản chính).PDF")
    db.session.commit()
    assert row.kind == "pdf" and row.size == len(data)
    assert row.filename == "ke-hoach-ban-chinh.pdf"
    assert files.path_of(row.sha256).read_bytes() == data
    assert "ke hoach ho tro dong bao" in row.text
    assert "ke hoach ho tro dong bao" in document.search_text
    assert str(tmp_path) in str(files.path_of(row.sha256))
    assert "static" not in str(files.path_of(row.sha256))
    audit = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "document.file.attach"))
    assert audit.after["sha256"] == row.sha256
    with pytest.raises(FieldError, match="đã được đính kèm"):
        services.attach_file(document, data, "again.pdf")
    db.session.rollback()
    other = new_document(document.group, "2/QĐ-UBND", "Văn bản khác")
    services.attach_file(other, data, "same.pdf")
    db.session.commit()
    assert len(stored(tmp_path)) == 1


def test_a_docx_is_accepted_without_text(document):
    row = services.attach_file(document, make_docx(), "to-trinh.docx")
    assert (row.kind, row.text, row.filename) == ("docx", None, "to-trinh.docx")


def test_the_name_does_not_decide_the_kind(document):
    row = services.attach_file(document, make_xlsx(), "bang.pdf")
    assert (row.kind, row.filename) == ("xlsx", "bang.xlsx")


def test_path_of_refuses_anything_but_a_hash(app):
    with pytest.raises(ValueError):
        files.path_of("../../etc/passwd")

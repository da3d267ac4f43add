"""Helpers for the document-library tests: a tiny real PDF, Office zips, a zip bomb, and
the sample library."""

from __future__ import annotations

import io
import zipfile

from dantoc.demo.documents import seed_documents
from dantoc.documents import services
from dantoc.documents.models import Document, DocumentGroup
from dantoc.extensions import db


def make_pdf(text: str, padding: int = 0) -> bytes:
    """A one-page PDF whose text pypdf extracts (ASCII text, Helvetica); ``padding`` bytes
    of comment make it as large as a test needs."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 40 760 Td ({escaped}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    if padding:
        out.write(b"%" + b"x" * padding + b"\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def make_zip(parts: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_docx() -> bytes:
    return make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def make_xlsx() -> bytes:
    return make_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})


def make_zip_bomb() -> bytes:
    """A "docx" whose one part unpacks 1000 times larger than it is packed."""
    return make_zip({"[Content_Types].xml": b"<Types/>",
                     "word/document.xml": b"\0" * (50 * 1024 * 1024)})


def sample_library() -> list[Document]:
    """The 14 sample documents (committed)."""
    documents = seed_documents({})
    db.session.commit()
    return documents


def new_group(name: str = "Nhóm thử", department_id: int | None = None) -> DocumentGroup:
    return services.save_group(None, name=name, department_id=department_id)


def new_document(group: DocumentGroup, number: str, summary: str, *, publish: bool = True,
                 **fields) -> Document:
    values = {"doc_type": "quyet_dinh", "issuer": "UBND tỉnh Lai Châu"} | fields
    document = services.create_document(group=group, number=number, summary=summary, **values)
    if publish:
        services.change_state(document, "publish")
    return document


def use_storage(app, tmp_path):
    """Keep attachments in the test's own folder."""
    app.config["DOCUMENT_STORAGE"] = str(tmp_path / "documents")
    return tmp_path / "documents"

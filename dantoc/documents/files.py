"""Attachments: what a file is (by its bytes, never its name), where it is kept, its text.

Accepted: PDF, DOC (OLE2), DOCX and XLSX (Office Open XML zips). A zip must hold the parts
of its kind and declare no more than :data:`MAX_UNPACKED` bytes unpacked and no entry packed
more than :data:`MAX_RATIO` times (a zip bomb is refused before anything reads it). Files are
stored once, under their SHA-256, in ``<instance>/documents/`` (outside ``static/``: they are
served by a view that checks the document is public).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..refusal import FieldError
from .search import fold

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 100
MAX_ENTRIES = 5_000
#: Text kept from a PDF for the search (the first pages say what a document is about).
MAX_TEXT = 200_000
MAX_PAGES = 200

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The part an Office Open XML file of each kind must have.
OOXML_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}


@dataclass(frozen=True)
class Checked:
    """A file that passed :func:`check`: its kind, hash, size and extracted text."""

    kind: str
    sha256: str
    size: int
    text: str | None


def max_bytes() -> int:
    return int(current_app.config.get("DOCUMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def _refuse(message) -> FieldError:
    return FieldError(message, "file")


def _zip_kind(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _refuse(_l("The file is damaged: it could not be opened.")) from error
    unpacked = sum(entry.file_size for entry in entries)
    if (len(entries) > MAX_ENTRIES or unpacked > MAX_UNPACKED
            or any(entry.file_size > MAX_RATIO * max(entry.compress_size, 1)
                   for entry in entries)):
        raise _refuse(_l("The file unpacks to far more than its size (a \"zip bomb\"): "
                         "it was refused."))
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" in names:
        for kind, part in OOXML_PARTS.items():
            if part in names:
                return kind
    raise _refuse(_l("Only PDF, Word (DOC, DOCX) and Excel (XLSX) files are accepted."))


def kind_of(data: bytes) -> str:
    """The kind of a file from its content.

    :raise FieldError: for anything but PDF, DOC, DOCX or XLSX, and for zip bombs.
    """
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(OLE2):
        return "doc"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    raise _refuse(_l("Only PDF, Word (DOC, DOCX) and Excel (XLSX) files are accepted."))


def pdf_text(data: bytes) -> str:
    """The text of a PDF's first pages, folded for the search.

    :raise FieldError: when pypdf cannot read the file.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise _refuse(_l("The PDF is protected by a password: upload it without one."))
            chunks, length = [], 0
            for page in reader.pages[:MAX_PAGES]:
                chunk = page.extract_text() or ""
                chunks.append(chunk)
                length += len(chunk)
                if length > MAX_TEXT:
                    break
    except FieldError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError) as error:
        raise _refuse(_l("The file is damaged: it could not be opened.")) from error
    return fold(" ".join(chunks))[:MAX_TEXT]


def check(data: bytes) -> Checked:
    """Check an upload completely before anything is stored.

    :raise FieldError: empty, too large, not an accepted kind, damaged, a zip bomb.
    """
    limit = max_bytes()
    if not data:
        raise _refuse(_l("The file is empty."))
    if len(data) > limit:
        raise _refuse(_l("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024)))
    kind = kind_of(data)
    text = pdf_text(data) if kind == "pdf" else None
    return Checked(kind, hashlib.sha256(data).hexdigest(), len(data), text)


def storage_dir() -> Path:
    return Path(current_app.config.get("DOCUMENT_STORAGE") or
                os.path.join(current_app.instance_path, "documents"))


def path_of(sha256: str) -> Path:
    """Where the file with this hash is kept (two-level fan-out)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256")
    return storage_dir() / sha256[:2] / sha256


def store(data: bytes, checked: Checked) -> Path:
    """Write the file under its hash (atomically; an identical file is kept once)."""
    target = path_of(checked.sha256)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{checked.sha256}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return target


def safe_filename(name: str | None, kind: str) -> str:
    """A download name without path parts or odd characters, ending in the real kind."""
    base = os.path.basename((name or "").replace("\\", "/"))
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = "-".join(fold(stem).split())[:80] or "van-ban"
    return f"{stem}.{kind}"

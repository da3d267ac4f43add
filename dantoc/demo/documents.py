"""Sample document library: the real documents of the field, as metadata only.

The rows come from ``dantoc/documents/data/legal_documents.csv`` (compiled from public
sources, listed per row): number, type, issuer, title, dates, status where a source states
it, signer, what it replaces, what the sources say, and the addresses. Every document is
flagged ``is_sample``; no text is invented and a field the sources leave empty stays empty.
The groups and the notice are invented for the demo and say so.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from ..documents import services
from ..documents.models import DOC_TYPES, Announcement, Document, DocumentGroup, Validity
from ..extensions import db
from .accounts import PROVINCE_CODE, _valid_unit

DATA = Path(__file__).resolve().parent.parent / "documents" / "data" / "legal_documents.csv"
#: (name, parent name, department code): the demo's classification, not an official one.
GROUPS = (
    ("Văn bản trung ương", None, None),
    ("Chế độ báo cáo, thống kê công tác dân tộc", "Văn bản trung ương", "demo-khth"),
    ("Chính sách dân tộc", "Văn bản trung ương", "demo-csdt"),
    ("Tổ chức bộ máy", "Văn bản trung ương", "demo-vp"),
    ("Văn bản liên quan đến tỉnh", None, None),
)
#: Number → group, where the title alone does not tell.
GROUP_OF = {"414/QĐ-TTg": "Chính sách dân tộc", "935/UBDT-TTTT": "Chính sách dân tộc",
            "02/2025/TT-BDTTG": "Tổ chức bộ máy",
            "1670/NQ-UBTVQH15": "Văn bản liên quan đến tỉnh"}
TYPE_CODES = {name: code for code, name in DOC_TYPES.items()}
NOTICE_TITLE = "Thư viện văn bản đã có trên cổng thông tin (mẫu)"
NOTICE_BODY = ("Người dân có thể tìm văn bản theo số ký hiệu, loại văn bản, cơ quan ban hành "
               "hoặc từ khoá, gõ có dấu hay không dấu đều được. Đây là thông báo mẫu để "
               "trình diễn.")


def _day(text: str) -> date | None:
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", (text or "").strip())
    return date(*map(int, match.groups())) if match else None


def validity_of(text: str) -> tuple[str | None, date | None]:
    """(status, date it changed) from the CSV's ``status_or_expiry`` (empty: not known)."""
    lowered = (text or "").lower()
    if "hết hiệu lực một phần" in lowered:
        status = Validity.PARTLY_EXPIRED
    elif "hết hiệu lực" in lowered:
        status = Validity.EXPIRED
    elif "còn hiệu lực" in lowered:
        status = Validity.IN_FORCE
    else:
        return None, None
    return status, _day(text)


def number_of(doc_number: str) -> str:
    """``QĐ 414/QĐ-TTg`` → ``414/QĐ-TTg`` (the CSV prefixes the type's abbreviation)."""
    return doc_number.split(" ", 1)[1].strip() if " " in doc_number else doc_number.strip()


def rows() -> list[dict]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _groups(departments: dict) -> dict[str, DocumentGroup]:
    found: dict[str, DocumentGroup] = {}
    for position, (name, parent, department) in enumerate(GROUPS):
        group = db.session.scalar(sa.select(DocumentGroup).where(DocumentGroup.name == name))
        if group is None:
            owner = departments.get(department) if department else None
            group = services.save_group(None, name=name, parent=found.get(parent),
                                        department_id=owner.id if owner else None,
                                        position=position)
        found[name] = group
    return found


def _group_for(row: dict, number: str, groups: dict) -> DocumentGroup:
    if number in GROUP_OF:
        return groups[GROUP_OF[number]]
    return groups["Chế độ báo cáo, thống kê công tác dân tộc"]


def seed_documents(departments: dict) -> list[Document]:
    """The 14 documents, published as sample metadata, with their "replaces" links."""
    groups = _groups(departments)
    documents, replaces = [], []
    for row in rows():
        number = number_of(row["doc_number"])
        document = db.session.scalar(sa.select(Document).where(Document.number == number))
        if document is None:
            status, changed = validity_of(row["status_or_expiry"])
            document = services.create_document(
                group=_group_for(row, number, groups), number=number,
                doc_type=TYPE_CODES[row["doc_type"]], issuer=row["issuer"],
                signer=row["signer"] or None, issued_on=_day(row["issued"]),
                effective_on=_day(row["effective"]), validity=status,
                validity_changed_on=changed, summary=row["title_vi"], field=None,
                visibility="public", is_sample=True, source=row["source_url"] or None,
                note=row["facts_from_source"] or None)
            services.change_state(document, "publish")
            if row["replaces"]:
                replaces.append((document, number_of(row["replaces"])))
        documents.append(document)
    for document, target_number in replaces:
        target = db.session.scalar(sa.select(Document).where(Document.number == target_number))
        if target is not None:
            services.add_link(document, target, "replaces")
    _notice()
    return documents


def _notice() -> None:
    province = _valid_unit(PROVINCE_CODE)
    exists = db.session.scalar(sa.select(Announcement.id).where(
        Announcement.title == NOTICE_TITLE))
    if province is None or exists:
        return
    notice = services.save_announcement(None, unit=province, title=NOTICE_TITLE,
                                        body=NOTICE_BODY, dated=date(2026, 12, 1),
                                        is_sample=True)
    services.change_announcement(notice, "publish")

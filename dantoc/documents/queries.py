"""Reads for the public pages and the staff screens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from .models import (
    Announcement,
    AnnouncementState,
    DocState,
    Document,
    DocumentGroup,
    DocumentLink,
    Visibility,
)

PUBLIC = (Document.state == DocState.PUBLISHED, Document.visibility == Visibility.PUBLIC)


def public_document(slug: str) -> Document | None:
    return db.session.scalar(sa.select(Document).where(Document.slug == slug, *PUBLIC))


def group_by_slug(slug: str) -> DocumentGroup | None:
    return db.session.scalar(sa.select(DocumentGroup).where(
        DocumentGroup.slug == slug, DocumentGroup.retired.is_(False)))


def groups(include_retired: bool = False) -> list[DocumentGroup]:
    """Every group, parents before children, in the order staff gave them."""
    select = sa.select(DocumentGroup).order_by(DocumentGroup.position, DocumentGroup.name)
    if not include_retired:
        select = select.where(DocumentGroup.retired.is_(False))
    rows = list(db.session.scalars(select))
    by_parent: dict[int | None, list[DocumentGroup]] = {}
    for group in rows:
        by_parent.setdefault(group.parent_id, []).append(group)
    ordered: list[DocumentGroup] = []

    def walk(parent_id):
        for group in by_parent.get(parent_id, ()):
            ordered.append(group)
            walk(group.id)

    walk(None)
    known = {g.id for g in ordered}
    return ordered + [g for g in rows if g.id not in known]  # under a retired parent


def depth(group: DocumentGroup) -> int:
    level, node = 0, group.parent
    while node is not None and level < 10:
        level, node = level + 1, node.parent
    return level


def children(group: DocumentGroup | None) -> list[DocumentGroup]:
    return list(db.session.scalars(sa.select(DocumentGroup).where(
        DocumentGroup.parent_id == (group.id if group else None),
        DocumentGroup.retired.is_(False)).order_by(DocumentGroup.position, DocumentGroup.name)))


def latest_documents(limit: int = 5) -> list[Document]:
    return list(db.session.scalars(sa.select(Document).where(*PUBLIC).order_by(
        Document.issued_on.desc().nulls_last(), Document.id.desc()).limit(limit)))


def latest_announcements(limit: int = 5) -> list[Announcement]:
    return list(db.session.scalars(sa.select(Announcement).where(
        Announcement.state == AnnouncementState.PUBLISHED).order_by(
        Announcement.dated.desc(), Announcement.id.desc()).limit(limit)))


def issuers() -> list[str]:
    return list(db.session.scalars(sa.select(Document.issuer).where(*PUBLIC).distinct()
                                   .order_by(Document.issuer)))


def years() -> list[int]:
    days = db.session.scalars(sa.select(Document.issued_on).where(
        *PUBLIC, Document.issued_on.is_not(None)))
    return sorted({d.year for d in days}, reverse=True)


def links_of(document: Document, public_only: bool = True) -> list[tuple[str, Document, bool]]:
    """(kind, other document, outgoing?) for the links from and to ``document``."""
    rows = db.session.scalars(sa.select(DocumentLink).where(sa.or_(
        DocumentLink.source_id == document.id, DocumentLink.target_id == document.id)))
    found = []
    for link in rows:
        outgoing = link.source_id == document.id
        other = link.target if outgoing else link.source
        if not public_only or other.is_public:
            found.append((link.kind, other, outgoing))
    return found


def last_change() -> datetime | None:
    """When the public library last changed (for ETags): newest document or notice edit."""
    newest = db.session.scalar(sa.select(sa.func.max(Document.updated_at)))
    notice = db.session.scalar(sa.select(sa.func.max(Announcement.updated_at)))
    counts = db.session.execute(sa.select(
        sa.select(sa.func.count()).select_from(Document).scalar_subquery(),
        sa.select(sa.func.count()).select_from(Announcement).scalar_subquery())).one()
    return f"{newest}|{notice}|{counts[0]}|{counts[1]}"


def staff_documents(group_ids: list[int] | None = None, state: str | None = None,
                    limit: int = 200) -> list[Document]:
    select = sa.select(Document).order_by(Document.updated_at.desc(), Document.id.desc())
    if group_ids is not None:
        select = select.where(Document.group_id.in_(group_ids))
    if state:
        select = select.where(Document.state == state)
    return list(db.session.scalars(select.limit(limit)))


def all_announcements(limit: int = 200) -> list[Announcement]:
    return list(db.session.scalars(sa.select(Announcement).order_by(
        Announcement.dated.desc(), Announcement.id.desc()).limit(limit)))

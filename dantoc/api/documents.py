"""The document services: document groups, documents (metadata, links, files) and a file's
download. Public documents are open data; internal ones are shown only to a client with the
verb ``api.documents`` (docs/api.md).

A list shows what a client may copy: the published documents and the groups in use. The
change feed (``changed_since``) also shows what a client must take back: retired groups,
retired documents, and a document that was published and went back to draft as
``withdrawn`` (its number only: the draft's metadata is work in progress).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import url_for

from ..documents import files as stored_files
from ..documents.models import (
    DOC_TYPES,
    DocState,
    Document,
    DocumentFile,
    DocumentGroup,
    DocumentLink,
    Visibility,
)
from ..extensions import db
from ..refusal import Refusal
from . import schemas
from .auth import client_may
from .queries import list_page, utc

VERB = "api.documents"


def _visible(query: sa.Select, changes: bool) -> sa.Select:
    """The documents this request may see: published ones (with ``changes``: also retired
    and withdrawn ones that were published once), internal ones only with the verb."""
    if changes:
        query = query.where(Document.published_at.is_not(None))
    else:
        query = query.where(Document.state == DocState.PUBLISHED)
    if not client_may(VERB):
        query = query.where(Document.visibility == Visibility.PUBLIC)
    return query


def document_groups(limit: int, cursor: str | None, changed_since: datetime | None) -> dict:
    query = sa.select(DocumentGroup).options(so.joinedload(DocumentGroup.parent))
    if changed_since is None:
        query = query.where(DocumentGroup.retired.is_(False))
    result = list_page("document-groups", query, DocumentGroup, limit=limit, cursor=cursor,
                   since=changed_since)
    items = [schemas.DocumentGroup(
        slug=g.slug, name=g.name, parent=g.parent.slug if g.parent else None,
        position=g.position, retired=g.retired, updated_at=utc(g.updated_at))
        for g in result.rows]
    return {"items": items, **result.links}


def _links(ids: list[int]) -> dict[int, list[schemas.DocumentLinkOut]]:
    """The links from and to the documents, to documents this request may see."""
    found = defaultdict(list)
    if not ids:
        return found
    source, target = so.aliased(Document), so.aliased(Document)
    shown = _visible(sa.select(Document.id), changes=False)
    rows = db.session.execute(
        sa.select(DocumentLink.kind, DocumentLink.source_id, DocumentLink.target_id,
                  source.number, target.number)
        .join(source, DocumentLink.source_id == source.id)
        .join(target, DocumentLink.target_id == target.id)
        .where(sa.or_(sa.and_(DocumentLink.source_id.in_(ids),
                              DocumentLink.target_id.in_(shown)),
                      sa.and_(DocumentLink.target_id.in_(ids),
                              DocumentLink.source_id.in_(shown))))
        .order_by(DocumentLink.id))
    for kind, source_id, target_id, source_number, target_number in rows:
        if source_id in ids:
            found[source_id].append(schemas.DocumentLinkOut(
                kind=kind, direction="outgoing", document=target_number))
        if target_id in ids:
            found[target_id].append(schemas.DocumentLinkOut(
                kind=kind, direction="incoming", document=source_number))
    return found


def _file(row: DocumentFile) -> schemas.DocumentFileOut:
    return schemas.DocumentFileOut(
        id=row.id, filename=row.filename, kind=row.kind,
        media_type=stored_files.MEDIA_TYPES[row.kind], size=row.size, sha256=row.sha256,
        url=url_for("api.document_file", document_id=row.document_id, file_id=row.id))


def _withdrawn(d: Document) -> schemas.Document:
    return schemas.Document(
        id=d.id, number=d.number, state="withdrawn", doc_type=None, type_name=None,
        issuer=None, signer=None, issued_on=None, effective_on=None, validity=None,
        validity_changed_on=None, summary=None, field=None, visibility=None, group=None,
        links=[], files=[], published_at=None, updated_at=utc(d.updated_at))


def _items(rows: list[Document]) -> list[schemas.Document]:
    ids = [d.id for d in rows if d.state != DocState.DRAFT]
    links = _links(ids)
    items = []
    for d in rows:
        if d.state == DocState.DRAFT:
            items.append(_withdrawn(d))
            continue
        items.append(schemas.Document(
            id=d.id, number=d.number, state=d.state, doc_type=d.doc_type,
            type_name=DOC_TYPES[d.doc_type], issuer=d.issuer, signer=d.signer,
            issued_on=d.issued_on, effective_on=d.effective_on, validity=d.validity,
            validity_changed_on=d.validity_changed_on, summary=d.summary, field=d.field,
            visibility=d.visibility, group=d.group.slug, links=links.get(d.id, []),
            files=[_file(f) for f in d.files],
            published_at=utc(d.published_at) if d.published_at else None,
            updated_at=utc(d.updated_at)))
    return items


def documents(limit: int, cursor: str | None, group: str | None,
              changed_since: datetime | None) -> dict:
    query = _visible(sa.select(Document), changes=changed_since is not None).options(
        so.joinedload(Document.group), so.selectinload(Document.files))
    if group is not None:
        query = query.where(Document.group_id.in_(
            sa.select(DocumentGroup.id).where(DocumentGroup.slug == group)))
    result = list_page("documents", query, Document, limit=limit, cursor=cursor,
                   since=changed_since)
    return {"items": _items(result.rows), **result.links}


def _shown(document_id: int) -> Document:
    """A published document this request may see.

    :raise Refusal: ``not_found`` otherwise (an internal document is not found without the
        verb: its existence is not told).
    """
    found = db.session.scalar(_visible(sa.select(Document), changes=False).where(
        Document.id == document_id).options(so.joinedload(Document.group),
                                            so.selectinload(Document.files)))
    if found is None:
        raise Refusal("not_found")
    return found


def document(document_id: int) -> schemas.Document:
    return _items([_shown(document_id)])[0]


def document_file(document_id: int, file_id: int) -> DocumentFile:
    """A file of a document this request may see, whose bytes are stored.

    :raise Refusal: ``not_found`` otherwise.
    """
    found = _shown(document_id)
    row = db.session.get(DocumentFile, file_id)
    if row is None or row.document_id != found.id or not stored_files.path_of(
            row.sha256).is_file():
        raise Refusal("not_found")
    return row

"""The pull of document groups and documents (:mod:`.pull` runs them; docs/api.md §Sync).

Both lists are read through their **change feed** (``?changed_since=``): unlike the plain
lists it also tells what the centre retired or took back (a document ``withdrawn``), which a
province must take back too. Groups are matched by their slug, documents by their number
(số ký hiệu, the identifier between instances); a group whose parent comes later in the
feed waits for the end of the pass, as units do.

A document's files are downloaded only when this instance lacks them (matched by SHA-256),
checked like an upload (:func:`dantoc.documents.files.check`: real type, size, zip bombs)
and against the hash and size the centre announced; their bytes are written before the
page's commit, under their hash, so a pass stopped in between leaves at most an unused
file (harmless, as for uploads). Links are made when both documents are here; those between
two national documents follow the centre's, those a province added stay.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from ..audit import services as audit
from ..documents import files as stored_files
from ..documents import services as library
from ..documents.models import DocState, Document, DocumentFile, DocumentGroup, DocumentLink
from ..extensions import db
from ..refusal import FieldError
from .rows import PENDING, SyncError, day, moment, same_moment, upsert

#: What the centre's feed says about a document it published once and took back.
WITHDRAWN = "withdrawn"


def document_group(item: dict, context: Any) -> str:
    parent_id = None
    if item["parent"] is not None:
        parent_id = db.session.scalar(sa.select(DocumentGroup.id).where(
            DocumentGroup.slug == item["parent"]))
        if parent_id is None:
            context.pending.append(item)  # its parent comes later in the feed
            return PENDING
    row = db.session.scalar(sa.select(DocumentGroup).where(DocumentGroup.slug == item["slug"]))
    was_retired = row.retired if row is not None else None
    outcome = upsert(DocumentGroup, {"slug": item["slug"]}, {
        "name": item["name"], "parent_id": parent_id, "position": item["position"],
        "retired": item["retired"]}, "sync.document_group", row=row)[1]
    retiring = outcome == "changed" and was_retired is False and item["retired"]
    return "retired" if retiring else outcome


def pending_problem(item: dict) -> tuple[str, str]:
    """Why a group could not be placed (its parent is missing at the peer), and its key."""
    return (f"document group {item['slug']}: its parent {item['parent']} is missing at the "
            "peer", item["slug"])


def _group_id(slug: str) -> int:
    found = db.session.scalar(sa.select(DocumentGroup.id).where(DocumentGroup.slug == slug))
    if found is None:
        raise SyncError(f"document group {slug!r} is missing (pull the document groups "
                        "first)", "missing", code=slug)
    return found


def document(item: dict, context: Any) -> str:
    row = db.session.scalar(sa.select(Document).where(Document.number == item["number"]))
    if item["state"] == WITHDRAWN:
        return _withdraw(row)
    values = {
        "group_id": _group_id(item["group"]), "doc_type": item["doc_type"],
        "issuer": item["issuer"], "signer": item["signer"],
        "issued_on": day(item["issued_on"]), "effective_on": day(item["effective_on"]),
        "validity": item["validity"], "validity_changed_on": day(item["validity_changed_on"]),
        "summary": item["summary"], "field": item["field"], "visibility": item["visibility"],
        "state": item["state"], "published_at": moment(item["published_at"])}
    was = row.state if row is not None else None
    if row is None:
        values["slug"] = library.unique_slug(Document, library.slugify(
            f"{library.DOC_TYPES[item['doc_type']]} {item['number']}"))
    else:
        values["published_at"] = _same_or(row.published_at, values["published_at"])
    row, outcome = upsert(Document, {"number": item["number"]}, values, "sync.document",
                           row=row)
    parts_changed = _files(row, item["files"], context) | _links(row, item["links"])
    if parts_changed or outcome != "unchanged":  # its words or its files' text changed
        library.refresh_search_text(row)
        db.session.flush()
    if outcome == "unchanged" and parts_changed:
        outcome = "changed"
    if outcome == "changed" and was != DocState.RETIRED and row.state == DocState.RETIRED:
        outcome = "retired"
    return outcome


def _same_or(mine, theirs):
    """Keep this row's moment when it is the same instant (the engines give it back with or
    without its zone): not a change."""
    return mine if same_moment(mine, theirs) else theirs


def _withdraw(row: Document | None) -> str:
    """The centre took a document back: a copy here goes back to draft (hidden from
    citizens and from this instance's API), as it is at the centre."""
    if row is None or row.state == DocState.DRAFT:
        return "unchanged"  # never copied here, or taken back already
    before = row.state
    row.state = DocState.DRAFT
    db.session.flush()
    audit.record("sync.document.withdraw", row, before={"state": before},
                 after={"state": row.state})
    return "retired"


def _files(row: Document, announced: list[dict], context: Any) -> bool:
    """This document's files as the centre has them; True when something changed."""
    wanted = {f["sha256"]: f for f in announced}
    changed = False
    for here in list(row.files):
        if here.sha256 not in wanted:
            row.files.remove(here)
            db.session.delete(here)
            db.session.flush()
            audit.record("sync.document.file.remove", row, after={"sha256": here.sha256})
            changed = True
    have = {f.sha256 for f in row.files}
    for sha256, meta in wanted.items():
        if sha256 in have:
            continue
        data = context.download(meta["url"])
        if hashlib.sha256(data).hexdigest() != sha256 or len(data) != meta["size"]:
            raise SyncError(f"document {row.number}: the file {meta['filename']!r} arrived "
                            "different from what the peer announced (hash or size)",
                            "not_stored", code=row.number)
        try:
            checked = stored_files.check(data)
        except FieldError as error:
            raise SyncError(f"document {row.number}: the file {meta['filename']!r} is "
                            f"refused here: {error.message}", "not_stored",
                            code=row.number) from None
        file_row = DocumentFile(document=row, sha256=sha256, size=checked.size,
                                kind=checked.kind, text=checked.text,
                                filename=stored_files.safe_filename(meta["filename"],
                                                                    checked.kind))
        db.session.add(file_row)
        db.session.flush()
        stored_files.store(data, checked)
        audit.record("sync.document.file.create", file_row, after=audit.snapshot(
            file_row, ("document_id", "sha256", "filename", "kind", "size")))
        changed = True
    return changed


def _links(row: Document, announced: list[dict]) -> bool:
    """The links the centre tells between this document and others that are here; a link
    between two national documents that the centre no longer tells goes. True when
    something changed."""
    numbers = {link["document"] for link in announced}
    ids = dict(db.session.execute(sa.select(Document.number, Document.id).where(
        Document.number.in_(numbers))).tuples().all()) if numbers else {}
    wanted = set()
    for link in announced:
        other = ids.get(link["document"])
        if other is not None and other != row.id:
            ends = (row.id, other) if link["direction"] == "outgoing" else (other, row.id)
            wanted.add((link["kind"], *ends))
    present = {(link.kind, link.source_id, link.target_id): link
               for link in db.session.scalars(sa.select(DocumentLink).where(sa.or_(
                   DocumentLink.source_id == row.id, DocumentLink.target_id == row.id)))}
    national = set(db.session.scalars(sa.select(Document.id).where(
        Document.id.in_({key[1] for key in present} | {key[2] for key in present}),
        Document.synced_from.is_not(None))))
    changed = False
    for key, link in present.items():
        if key not in wanted and {key[1], key[2]} <= national:
            audit.record("sync.document.link.remove", link, before=audit.snapshot(link))
            db.session.delete(link)
            changed = True
    for kind, source_id, target_id in wanted - set(present):
        link = DocumentLink(kind=kind, source_id=source_id, target_id=target_id)
        db.session.add(link)
        db.session.flush()
        audit.record("sync.document.link.create", link, after=audit.snapshot(link))
        changed = True
    if changed:
        db.session.flush()
    return changed

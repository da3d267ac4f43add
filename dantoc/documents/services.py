"""Writes to the document library: validate, change, flush and audit in one go.

Services flush and never commit; the caller (a view, the demo loader) owns the transaction.
A refusal is a :class:`FieldError` naming the field (or a :class:`Refusal` for a state
change that is not allowed), raised before anything changes.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from .. import clock
from ..audit import services as audit
from ..catalogs.models import AdminUnit
from ..extensions import db
from ..refusal import FieldError, Refusal
from ..sync.origin import check_editable
from . import files
from .models import (
    DOC_TYPES,
    LINK_KINDS,
    Announcement,
    AnnouncementState,
    DocState,
    Document,
    DocumentFile,
    DocumentGroup,
    DocumentLink,
    Validity,
    Visibility,
)
from .search import fold, search_text_of

DOCUMENT_FIELDS = ("group", "number", "doc_type", "issuer", "signer", "issued_on",
                   "effective_on", "validity", "validity_changed_on", "summary", "field",
                   "visibility", "is_sample", "source", "note")
DOCUMENT_AUDIT = ("group_id", "number", "doc_type", "issuer", "signer", "issued_on",
                  "effective_on", "validity", "validity_changed_on", "summary", "field",
                  "visibility", "state", "slug", "is_sample")
LIMITS = {"number": 80, "issuer": 200, "signer": 120, "field": 200}


def _clean(value):
    if isinstance(value, str):
        return value.strip() or None
    return value


def slugify(text: str, limit: int = 120) -> str:
    """A readable URL part without diacritics: "Quyết định 414/QĐ-TTg" → quyet-dinh-414-qd-ttg."""
    return "-".join(fold(text).split())[:limit].strip("-")


def unique_slug(model, base: str, own_id: int | None = None) -> str:
    """``base``, or ``base-2``, ``base-3`` … the first one no other row of ``model`` has."""
    base = base or "van-ban"
    slug, n = base, 1
    while db.session.scalar(sa.select(model.id).where(model.slug == slug,
                                                      model.id != (own_id or 0))):
        n += 1
        slug = f"{base}-{n}"
    return slug


# Groups ------------------------------------------------------------------------------------

def _check_group(values: dict, own: DocumentGroup | None) -> None:
    if not values.get("name"):
        raise FieldError(_l("Give the group a name."), "name")
    if len(values["name"]) > 200:
        raise FieldError(_l("Name: at most 200 characters."), "name")
    parent = values.get("parent")
    ancestor = parent
    while ancestor is not None:
        if own is not None and ancestor.id == own.id:
            raise FieldError(_l("A group cannot be inside itself."), "parent")
        ancestor = ancestor.parent


def save_group(group: DocumentGroup | None, *, name: str, parent: DocumentGroup | None = None,
               department_id: int | None = None, position: int = 0,
               retired: bool = False) -> DocumentGroup:
    """Create (``group`` None) or change a document group, audited.

    :raise Refusal: ``national_record`` for a group copied from the centre.
    """
    if group is not None:
        check_editable(group)
    values = {"name": _clean(name), "parent": parent, "department_id": department_id,
              "position": position or 0, "retired": bool(retired)}
    _check_group(values, group)
    return _saved(group, lambda: DocumentGroup(
        slug=unique_slug(DocumentGroup, slugify(values["name"]), None)), values, "document.group")


def _saved(row, new, values: dict, action: str):
    """Create (``row`` None: ``new()``) or update ``row`` with ``values``, flushed; one audit
    row (``<action>.create`` / ``.update``) when something changed."""
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = new()
        db.session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    db.session.flush()
    after = audit.snapshot(row)
    if after != before:
        audit.record(f"{action}.create" if before is None else f"{action}.update", row,
                     before=before, after=after)
    return row


def group_ids_under(group: DocumentGroup) -> list[int]:
    """The group and every group below it."""
    children: dict[int | None, list[int]] = {}
    for gid, parent_id in db.session.execute(
            sa.select(DocumentGroup.id, DocumentGroup.parent_id)):
        children.setdefault(parent_id, []).append(gid)
    found, todo = [], [group.id]
    while todo:
        gid = todo.pop()
        found.append(gid)
        todo.extend(children.get(gid, ()))
    return found


# Documents ---------------------------------------------------------------------------------

def _check_document(v: dict, own_id: int | None) -> None:
    for name in ("number", "issuer", "summary"):
        if not v.get(name):
            raise FieldError(_l("This field is required."), name)
    for name, limit in LIMITS.items():
        if v.get(name) and len(v[name]) > limit:
            raise FieldError(_l("At most %(n)s characters.", n=limit), name)
    if v.get("group") is None:
        raise FieldError(_l("Choose a group."), "group")
    if v["doc_type"] not in DOC_TYPES:
        raise FieldError(_l("Choose a document type from the list."), "doc_type")
    if v.get("validity") is not None and v["validity"] not in Validity.ALL:
        raise FieldError(_l("Choose a status from the list."), "validity")
    if v.get("visibility") not in Visibility.ALL:
        raise FieldError(_l("Choose public or internal."), "visibility")
    if v.get("validity_changed_on") and not v.get("validity"):
        raise FieldError(_l("Give the status that changed on this date."), "validity")
    if v.get("effective_on") and v.get("issued_on") and v["effective_on"] < v["issued_on"]:
        raise FieldError(_l("The document cannot take effect before it was issued."),
                         "effective_on")
    taken = db.session.scalar(sa.select(Document.id).where(
        Document.number == v["number"], Document.id != (own_id or 0)))
    if taken:
        raise FieldError(_l("Another document has the number %(number)s.",
                            number=v["number"]), "number")


def _values(document: Document | None, changes: dict) -> dict:
    unknown = set(changes) - set(DOCUMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown document fields: {sorted(unknown)}")
    values = {name: getattr(document, name) if document else None for name in DOCUMENT_FIELDS}
    values.update({name: _clean(value) for name, value in changes.items()})
    values["visibility"] = values["visibility"] or Visibility.PUBLIC
    values["is_sample"] = bool(values["is_sample"])
    return values


def refresh_search_text(document: Document) -> None:
    document.search_text = search_text_of(document, [f.text for f in document.files if f.text])


def create_document(**fields) -> Document:
    """A new draft document.

    :raise FieldError: a required field missing, a number already used, dates out of order.
    """
    values = _values(None, fields)
    _check_document(values, None)
    document = Document(state=DocState.DRAFT, **values)
    type_name = DOC_TYPES[values["doc_type"]]
    document.slug = unique_slug(Document, slugify(f"{type_name} {values['number']}"), None)
    refresh_search_text(document)
    db.session.add(document)
    db.session.flush()
    audit.record("document.create", document,
                 after=audit.snapshot(document, DOCUMENT_AUDIT))
    return document


def update_document(document: Document, **changes) -> Document:
    """Correct a document's metadata (its slug stays: links people saved keep working).

    :raise Refusal: ``national_record`` for a document copied from the centre.
    """
    check_editable(document)
    values = _values(document, changes)
    _check_document(values, document.id)
    before = audit.snapshot(document, DOCUMENT_AUDIT)
    for name, value in values.items():
        setattr(document, name, value)
    refresh_search_text(document)
    db.session.flush()
    after = audit.snapshot(document, DOCUMENT_AUDIT)
    if after != before:
        audit.record("document.update", document, before=before, after=after)
    return document


#: Actions on a document → (the states it is possible from, the state it leads to).
ACTIONS = {"publish": ((DocState.DRAFT,), DocState.PUBLISHED),
           "unpublish": ((DocState.PUBLISHED,), DocState.DRAFT),
           "retire": ((DocState.DRAFT, DocState.PUBLISHED), DocState.RETIRED),
           "restore": ((DocState.RETIRED,), DocState.DRAFT)}


def possible_actions(document: Document) -> list[str]:
    return [action for action, (sources, _target) in ACTIONS.items()
            if document.state in sources]


def change_state(document: Document, action: str) -> Document:
    """Publish, unpublish, retire or restore a document.

    :raise Refusal: ``invalid_transition`` when the action is not possible from its state;
        ``national_record`` for a document copied from the centre.
    """
    check_editable(document)
    if action not in possible_actions(document):
        raise Refusal("invalid_transition", document)
    target = ACTIONS[action][1]
    before = document.state
    document.state = target
    if target == DocState.PUBLISHED:
        document.published_at = clock.now()
    db.session.flush()
    audit.record(f"document.{action}", document, before={"state": before},
                 after={"state": target})
    return document


def add_link(source: Document, target: Document | None, kind: str) -> DocumentLink:
    """Record that ``source`` replaces, amends or guides ``target`` (a document made here
    may refer to one of the centre's; the centre's own links come with them).

    :raise Refusal: ``national_record`` when ``source`` was copied from the centre.
    """
    check_editable(source)
    if kind not in LINK_KINDS:
        raise FieldError(_l("Choose a kind of link from the list."), "kind")
    if target is None:
        raise FieldError(_l("No document has this number."), "target")
    if target.id == source.id:
        raise FieldError(_l("A document cannot refer to itself."), "target")
    exists = db.session.scalar(sa.select(DocumentLink.id).where(
        DocumentLink.source_id == source.id, DocumentLink.target_id == target.id,
        DocumentLink.kind == kind))
    if exists:
        raise FieldError(_l("This link is already recorded."), "target")
    link = DocumentLink(source=source, target=target, kind=kind)
    db.session.add(link)
    db.session.flush()
    audit.record("document.link.create", link, after=audit.snapshot(link))
    return link


def attach_file(document: Document, data: bytes, filename: str | None) -> DocumentFile:
    """Check a file completely, then store it and attach it (its PDF text joins the search).

    :raise FieldError: see :func:`files.check`; nothing is stored then.
    :raise Refusal: ``national_record`` for a document copied from the centre.
    """
    check_editable(document)
    checked = files.check(data)
    if any(f.sha256 == checked.sha256 for f in document.files):
        raise FieldError(_l("This file is already attached."), "file")
    row = DocumentFile(document=document, sha256=checked.sha256, size=checked.size,
                       kind=checked.kind, text=checked.text,
                       filename=files.safe_filename(filename, checked.kind))
    db.session.add(row)
    db.session.flush()
    refresh_search_text(document)
    files.store(data, checked)  # after the row is valid; an orphan file is harmless
    db.session.flush()
    audit.record("document.file.attach", row,
                 after=audit.snapshot(row, ("document_id", "sha256", "filename", "kind",
                                            "size")))
    return row


# Announcements -----------------------------------------------------------------------------

def save_announcement(announcement: Announcement | None, *, unit: AdminUnit | None,
                      title: str, body: str, dated: date | None,
                      is_sample: bool = False) -> Announcement:
    """Create (``announcement`` None, as a draft) or change a notice, audited."""
    values = {"unit": unit, "title": _clean(title), "body": _clean(body), "dated": dated,
              "is_sample": bool(is_sample)}
    if unit is None:
        raise FieldError(_l("Choose the province or commune that gives the notice."), "unit")
    for name in ("title", "body", "dated"):
        if not values[name]:
            raise FieldError(_l("This field is required."), name)
    if len(values["title"]) > 200:
        raise FieldError(_l("At most %(n)s characters.", n=200), "title")
    return _saved(announcement, lambda: Announcement(state=AnnouncementState.DRAFT), values,
                  "announcement")


ANNOUNCEMENT_ACTIONS = {"publish": AnnouncementState.PUBLISHED,
                        "withdraw": AnnouncementState.WITHDRAWN,
                        "unpublish": AnnouncementState.DRAFT}


def change_announcement(announcement: Announcement, action: str) -> Announcement:
    target = ANNOUNCEMENT_ACTIONS.get(action)
    if target is None or target == announcement.state:
        raise Refusal("invalid_transition", announcement)
    before = announcement.state
    announcement.state = target
    db.session.flush()
    audit.record(f"announcement.{action}", announcement, before={"state": before},
                 after={"state": target})
    return announcement

"""The legal-document library (văn bản): groups, documents, links, files, announcements.

A document's state and visibility are closed sets enforced by CHECK constraints; what the
citizen sees is ``state = 'published' AND visibility = 'public'``. ``search_text`` is the
document's metadata and extracted file text folded to lower case without diacritics (đ → d),
computed in Python (:func:`dantoc.documents.search.fold`), so that both engines index the
same words: SQLite through the FTS5 table ``documents_fts`` and PostgreSQL through a GIN
index on the stored column ``search_vector`` = ``to_tsvector('simple', search_text)``
(migration 0011; not mapped here, as it exists on PostgreSQL only).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .. import clock
from ..catalogs.models import AdminUnit, Department
from ..extensions import db
from ..sync.origin import Pulled

#: Loại văn bản: a closed set (code → the Vietnamese name printed on the document).
DOC_TYPES: dict[str, str] = {
    "luat": "Luật",
    "nghi_quyet": "Nghị quyết",
    "nghi_dinh": "Nghị định",
    "quyet_dinh": "Quyết định",
    "thong_tu": "Thông tư",
    "chi_thi": "Chỉ thị",
    "ke_hoach": "Kế hoạch",
    "cong_van": "Công văn",
    "thong_bao": "Thông báo",
    "huong_dan": "Hướng dẫn",
}


class Validity:
    """Tình trạng hiệu lực; None means the sources do not say."""

    IN_FORCE = "in_force"
    PARTLY_EXPIRED = "partly_expired"
    EXPIRED = "expired"
    ALL = (IN_FORCE, PARTLY_EXPIRED, EXPIRED)


class DocState:
    """A document's states; the actions between them are :data:`services.ACTIONS`
    (draft → published ⇄ draft; draft or published → retired → draft)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"
    ALL = (DRAFT, PUBLISHED, RETIRED)


class Visibility:
    PUBLIC = "public"
    INTERNAL = "internal"
    ALL = (PUBLIC, INTERNAL)


#: Links between documents: the source document … the target.
LINK_KINDS = ("replaces", "amends", "guides")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class DocumentGroup(Pulled, db.Model):
    """A group of documents (nhóm văn bản), in a tree; owned by a department when set."""

    __tablename__ = "document_groups"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    parent_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("document_groups.id", ondelete="RESTRICT"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    slug: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    #: Staff of another department may not manage the group's documents (can()).
    department_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("departments.id"), index=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    retired: so.Mapped[bool] = so.mapped_column(default=False)
    #: When the row last changed: the API's change feed (``?changed_since=``) reads it.
    updated_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now,
        server_default=sa.func.current_timestamp())

    parent: so.Mapped[DocumentGroup | None] = so.relationship(remote_side=[id])
    department: so.Mapped[Department | None] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        sa.CheckConstraint("slug <> ''", name="slug_not_empty"),
        sa.Index("ix_document_groups_updated", "updated_at", "id"),
    )


class Document(Pulled, db.Model):
    """A legal document's metadata (the text itself lives in its files)."""

    __tablename__ = "documents"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    group_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("document_groups.id", ondelete="RESTRICT"), index=True)
    #: Số ký hiệu, e.g. ``414/QĐ-TTg``.
    number: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    doc_type: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)
    issuer: so.Mapped[str] = so.mapped_column(sa.String(200), index=True)
    signer: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    issued_on: so.Mapped[date | None] = so.mapped_column(sa.Date, index=True)
    effective_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    validity: so.Mapped[str | None] = so.mapped_column(sa.String(20), index=True)
    validity_changed_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    #: Trích yếu.
    summary: so.Mapped[str] = so.mapped_column(sa.Text)
    #: Lĩnh vực.
    field: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    visibility: so.Mapped[str] = so.mapped_column(sa.String(10), default=Visibility.PUBLIC)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default=DocState.DRAFT, index=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(160), unique=True)
    #: Demo rows are flagged and shown as sample data.
    is_sample: so.Mapped[bool] = so.mapped_column(default=False)
    source: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: What the sources say about the document (not its text); searchable.
    note: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: Loaded only when asked for: it can hold a PDF's text, and no page shows it.
    search_text: so.Mapped[str] = so.mapped_column(sa.Text, default="", deferred=True)
    created_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now)
    published_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime(timezone=True))

    group: so.Mapped[DocumentGroup] = so.relationship()
    files: so.Mapped[list[DocumentFile]] = so.relationship(
        back_populates="document", order_by="DocumentFile.id")

    __table_args__ = (
        sa.CheckConstraint(_in("doc_type", DOC_TYPES), name="doc_type"),
        sa.CheckConstraint(_in("state", DocState.ALL), name="state"),
        sa.CheckConstraint(_in("visibility", Visibility.ALL), name="visibility"),
        sa.CheckConstraint("validity IS NULL OR " + _in("validity", Validity.ALL),
                           name="validity"),
        sa.CheckConstraint("validity_changed_on IS NULL OR validity IS NOT NULL",
                           name="validity_date_needs_validity"),
        sa.CheckConstraint("effective_on IS NULL OR issued_on IS NULL "
                           "OR effective_on >= issued_on", name="effective_after_issued"),
        sa.CheckConstraint("state <> 'published' OR published_at IS NOT NULL",
                           name="published_at"),
        sa.CheckConstraint("number <> '' AND slug <> '' AND summary <> ''",
                           name="not_empty"),
        sa.Index("ix_documents_updated", "updated_at", "id"),
    )

    @property
    def type_name(self) -> str:
        return DOC_TYPES[self.doc_type]

    @property
    def is_public(self) -> bool:
        return self.state == DocState.PUBLISHED and self.visibility == Visibility.PUBLIC


class DocumentLink(db.Model):
    """``source`` replaces, amends or guides ``target`` (thay thế, sửa đổi, hướng dẫn)."""

    __tablename__ = "document_links"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    source_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    target_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True)

    source: so.Mapped[Document] = so.relationship(foreign_keys=[source_id])
    target: so.Mapped[Document] = so.relationship(foreign_keys=[target_id])

    __table_args__ = (
        sa.CheckConstraint(_in("kind", LINK_KINDS), name="kind"),
        sa.CheckConstraint("source_id <> target_id", name="distinct_documents"),
        sa.UniqueConstraint("source_id", "target_id", "kind", name="uq_document_links_once"),
    )


@sa.event.listens_for(DocumentLink, "after_insert")
@sa.event.listens_for(DocumentLink, "after_update")
@sa.event.listens_for(DocumentLink, "after_delete")
def _touch_linked_documents(_mapper, connection, link: DocumentLink) -> None:
    """A link is part of both documents' answers in the API: a change of both in its feed."""
    table = Document.__table__
    connection.execute(table.update().where(table.c.id.in_(
        (link.source_id, link.target_id))).values(updated_at=clock.now()))


class DocumentFile(db.Model):
    """A file of a document, stored once under its SHA-256 outside ``static/``."""

    __tablename__ = "document_files"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    document_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    size: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    #: Text extracted from a PDF, folded, for the search (not shown).
    text: so.Mapped[str | None] = so.mapped_column(sa.Text, deferred=True)
    created_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now)

    document: so.Mapped[Document] = so.relationship(back_populates="files")

    __table_args__ = (
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_length"),
        sa.CheckConstraint("kind IN ('pdf', 'doc', 'docx', 'xlsx')", name="kind"),
        sa.UniqueConstraint("document_id", "sha256", name="uq_document_files_once"),
    )


class AnnouncementState:
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    ALL = (DRAFT, PUBLISHED, WITHDRAWN)


class Announcement(db.Model):
    """A short dated notice (thông báo) from the province or a commune."""

    __tablename__ = "announcements"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The province or commune that speaks; staff manage the notices of their subtree.
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("admin_units.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    dated: so.Mapped[date] = so.mapped_column(sa.Date, index=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default=AnnouncementState.DRAFT)
    is_sample: so.Mapped[bool] = so.mapped_column(default=False)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        sa.DateTime(timezone=True), default=clock.now, onupdate=clock.now)

    unit: so.Mapped[AdminUnit] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("state", AnnouncementState.ALL), name="state"),
        sa.CheckConstraint("title <> '' AND body <> ''", name="not_empty"),
    )

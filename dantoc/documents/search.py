"""Search that forgives missing diacritics, the same on SQLite and PostgreSQL.

Both the stored ``documents.search_text`` and the query are folded in Python by one
function (:func:`fold`: lower case, no diacritics, đ → d, punctuation → spaces), so the
engines never see a diacritic or a syntax character: a query becomes at most
:data:`MAX_TERMS` words of ``[0-9a-z]``, each matched as a prefix, all required.

- SQLite: the FTS5 table ``documents_fts`` (external content, kept by triggers), ranked by
  ``bm25()``;
- PostgreSQL: ``to_tsvector('simple', search_text)`` with a GIN index, ranked by
  ``ts_rank()``.

Ties are broken the same way on both (newest first, then id), so a query's result list is
the same on both engines wherever the ranks agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from ..catalogs.models import fold
from ..extensions import db
from .models import DOC_TYPES, DocState, Document, Validity, Visibility

__all__ = ["MAX_TERMS", "Filters", "Results", "fold", "run", "search_text_of", "terms"]

#: Words of a query that count; the rest is ignored (a 10,000-character paste stays cheap).
MAX_TERMS = 12
MAX_TERM_LENGTH = 40
#: Objects of the search index that live outside the models (created by migration 0011);
#: the models-versus-migrations check leaves them out.
INDEX_OBJECTS = frozenset({"documents_fts", "documents_fts_data", "documents_fts_idx",
                           "documents_fts_docsize", "documents_fts_config",
                           "documents_fts_content", "ix_documents_search_fts"})


def terms(query: str | None) -> list[str]:
    """The words searched for: folded, at most :data:`MAX_TERMS`, duplicates dropped."""
    words = fold((query or "")[:2000]).split()
    unique = dict.fromkeys(word[:MAX_TERM_LENGTH] for word in words)
    return list(unique)[:MAX_TERMS]


def search_text_of(document: Document, file_texts: list[str] | tuple = ()) -> str:
    """What a document is found by: its metadata and the text of its files, folded."""
    parts = [document.number, DOC_TYPES.get(document.doc_type, ""), document.issuer,
             document.signer, document.summary, document.field, document.note,
             str(document.issued_on.year) if document.issued_on else "", *file_texts]
    return fold(" ".join(part for part in parts if part))


@dataclass
class Filters:
    """Narrowing of a search; None means "any"."""

    group_ids: list[int] | None = None
    doc_type: str | None = None
    issuer: str | None = None
    year: int | None = None
    in_force: bool | None = None
    #: Staff screens see drafts and internal documents too.
    public_only: bool = True


@dataclass
class Results:
    items: list[Document]
    total: int
    page: int
    pages: int
    per_page: int
    terms: list[str] = field(default_factory=list)


def _where(filters: Filters) -> list:
    clauses = []
    if filters.public_only:
        clauses += [Document.state == DocState.PUBLISHED,
                    Document.visibility == Visibility.PUBLIC]
    if filters.group_ids is not None:
        clauses.append(Document.group_id.in_(filters.group_ids))
    if filters.doc_type:
        clauses.append(Document.doc_type == filters.doc_type)
    if filters.issuer:
        clauses.append(Document.issuer == filters.issuer)
    if filters.year:
        clauses.append(Document.issued_on.between(date(filters.year, 1, 1),
                                                  date(filters.year, 12, 31)))
    if filters.in_force is True:
        clauses.append(Document.validity == Validity.IN_FORCE)
    elif filters.in_force is False:
        clauses.append(Document.validity.in_((Validity.EXPIRED, Validity.PARTLY_EXPIRED)))
    return clauses


def _matching(words: list[str]) -> tuple[sa.Select, sa.ColumnElement | None]:
    """Documents matching every word, and the rank to order by (None: no words)."""
    select = sa.select(Document)
    if not words:
        return select, None
    if db.engine.dialect.name == "postgresql":
        vector = sa.func.to_tsvector(sa.literal_column("'simple'::regconfig"),
                                     Document.search_text)
        query = sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"),
                                   " & ".join(f"{word}:*" for word in words))
        return select.where(vector.op("@@")(query)), sa.func.ts_rank(vector, query).desc()
    # The FTS table is queried once (MATCH, bm25), materialized, and its hits joined to the
    # documents: flattened into the join, SQLite may drive it from the documents and run
    # the full-text query once per document (seconds instead of milliseconds for a count).
    fts = sa.table("documents_fts", sa.column("rowid"))
    match = " ".join(f'"{word}"*' for word in words)  # words are [0-9a-z] only
    hits = (sa.select(fts.c.rowid.label("id"),
                      sa.func.bm25(sa.literal_column("documents_fts")).label("rank"))
            .select_from(fts)
            .where(sa.text("documents_fts MATCH :match").bindparams(match=match))
            .cte("hits").prefix_with("MATERIALIZED"))
    select = select.join(hits, hits.c.id == Document.id)
    return select, hits.c.rank.asc()


def run(query: str | None, filters: Filters | None = None, page: int = 1,
        per_page: int = 20) -> Results:
    """One page of the documents matching ``query`` and ``filters``, best first.

    A page past the last one shows the last page (page 99999 of a short list is not an
    error, just a stale link).
    """
    filters = filters or Filters()
    words = terms(query)
    select, rank = _matching(words)
    select = select.where(*_where(filters))
    total = db.session.scalar(select.with_only_columns(sa.func.count(Document.id)))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    order = [rank] if rank is not None else []
    order += [Document.issued_on.desc().nulls_last(), Document.id.desc()]
    # Sort and cut the page on the ids alone, then load those rows: sorting whole rows
    # (summaries, notes) made a late page of 10,000 documents cost a second on SQLite.
    ids = list(db.session.scalars(select.with_only_columns(Document.id).order_by(*order)
                                  .limit(per_page).offset((page - 1) * per_page)))
    rows = {d.id: d for d in db.session.scalars(sa.select(Document).where(
        Document.id.in_(ids)))} if ids else {}
    return Results([rows[i] for i in ids], total, page, pages, per_page, words)

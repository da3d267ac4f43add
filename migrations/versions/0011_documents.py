"""documents: legal-document library (groups, documents, links, files), announcements, and
the full-text search over the folded search text (SQLite FTS5 / PostgreSQL GIN tsvector)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

VERB = "announcement.manage"
ROLES = ("province_officer", "commune_officer", "admin")
DOC_TYPES = ("luat", "nghi_quyet", "nghi_dinh", "quyet_dinh", "thong_tu", "chi_thi",
             "ke_hoach", "cong_van", "thong_bao", "huong_dan")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _ck(table, name):
    return op.f(f"ck_{table}_{name}")


def upgrade():
    op.create_table(
        "document_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id",
                           name=_ck("document_groups", "not_own_parent")),
        sa.CheckConstraint("slug <> ''", name=_ck("document_groups", "slug_not_empty")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_document_groups_department_id_departments")),
        sa.ForeignKeyConstraint(["parent_id"], ["document_groups.id"], ondelete="RESTRICT",
                                name=op.f("fk_document_groups_parent_id_document_groups")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_groups")),
        sa.UniqueConstraint("slug", name=op.f("uq_document_groups_slug")),
    )
    with op.batch_alter_table("document_groups") as batch_op:
        batch_op.create_index("ix_document_groups_parent_id", ["parent_id"])
        batch_op.create_index("ix_document_groups_department_id", ["department_id"])

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=80), nullable=False),
        sa.Column("doc_type", sa.String(length=20), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("signer", sa.String(length=120), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("validity", sa.String(length=20), nullable=True),
        sa.Column("validity_changed_on", sa.Date(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("slug", sa.String(length=160), nullable=False),
        sa.Column("is_sample", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_in("doc_type", DOC_TYPES), name=_ck("documents", "doc_type")),
        sa.CheckConstraint(_in("state", ("draft", "published", "retired")),
                           name=_ck("documents", "state")),
        sa.CheckConstraint(_in("visibility", ("public", "internal")),
                           name=_ck("documents", "visibility")),
        sa.CheckConstraint("validity IS NULL OR "
                           + _in("validity", ("in_force", "partly_expired", "expired")),
                           name=_ck("documents", "validity")),
        sa.CheckConstraint("validity_changed_on IS NULL OR validity IS NOT NULL",
                           name=_ck("documents", "validity_date_needs_validity")),
        sa.CheckConstraint("effective_on IS NULL OR issued_on IS NULL "
                           "OR effective_on >= issued_on",
                           name=_ck("documents", "effective_after_issued")),
        sa.CheckConstraint("state <> 'published' OR published_at IS NOT NULL",
                           name=_ck("documents", "published_at")),
        sa.CheckConstraint("number <> '' AND slug <> '' AND summary <> ''",
                           name=_ck("documents", "not_empty")),
        sa.ForeignKeyConstraint(["group_id"], ["document_groups.id"], ondelete="RESTRICT",
                                name=op.f("fk_documents_group_id_document_groups")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_documents_number")),
        sa.UniqueConstraint("slug", name=op.f("uq_documents_slug")),
    )
    with op.batch_alter_table("documents") as batch_op:
        for column in ("group_id", "doc_type", "issuer", "issued_on", "validity", "state"):
            batch_op.create_index(f"ix_documents_{column}", [column])

    op.create_table(
        "document_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(_in("kind", ("replaces", "amends", "guides")),
                           name=_ck("document_links", "kind")),
        sa.CheckConstraint("source_id <> target_id",
                           name=_ck("document_links", "distinct_documents")),
        sa.ForeignKeyConstraint(["source_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_document_links_source_id_documents")),
        sa.ForeignKeyConstraint(["target_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_document_links_target_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_links")),
        sa.UniqueConstraint("source_id", "target_id", "kind", name="uq_document_links_once"),
    )
    with op.batch_alter_table("document_links") as batch_op:
        batch_op.create_index("ix_document_links_source_id", ["source_id"])
        batch_op.create_index("ix_document_links_target_id", ["target_id"])

    op.create_table(
        "document_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size > 0", name=_ck("document_files", "size_positive")),
        sa.CheckConstraint("length(sha256) = 64", name=_ck("document_files", "sha256_length")),
        sa.CheckConstraint("kind IN ('pdf', 'doc', 'docx', 'xlsx')",
                           name=_ck("document_files", "kind")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_document_files_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_files")),
        sa.UniqueConstraint("document_id", "sha256", name="uq_document_files_once"),
    )
    with op.batch_alter_table("document_files") as batch_op:
        batch_op.create_index("ix_document_files_document_id", ["document_id"])
        batch_op.create_index("ix_document_files_sha256", ["sha256"])

    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dated", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("is_sample", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("state", ("draft", "published", "withdrawn")),
                           name=_ck("announcements", "state")),
        sa.CheckConstraint("title <> '' AND body <> ''", name=_ck("announcements", "not_empty")),
        sa.ForeignKeyConstraint(["unit_id"], ["admin_units.id"],
                                name=op.f("fk_announcements_unit_id_admin_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    with op.batch_alter_table("announcements") as batch_op:
        batch_op.create_index("ix_announcements_unit_id", ["unit_id"])
        batch_op.create_index("ix_announcements_dated", ["dated"])

    _create_search_index()
    _grant_verb()


def _create_search_index():
    """The full-text index over ``documents.search_text`` (already folded in Python)."""
    if op.get_bind().dialect.name == "postgresql":
        # A stored vector: a scan never recomputes to_tsvector, and the GIN index serves
        # the prefix queries (PostgreSQL 12 or newer).
        op.execute("ALTER TABLE documents ADD COLUMN search_vector tsvector GENERATED ALWAYS "
                   "AS (to_tsvector('simple', search_text)) STORED")
        op.execute("CREATE INDEX ix_documents_search_fts ON documents USING gin (search_vector)")
        return
    # An external-content FTS5 table kept in step by triggers: the text is stored once.
    op.execute("CREATE VIRTUAL TABLE documents_fts USING fts5(search_text, "
               "content='documents', content_rowid='id', tokenize='unicode61')")
    op.execute("CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN "
               "INSERT INTO documents_fts(rowid, search_text) "
               "VALUES (new.id, new.search_text); END")
    op.execute("CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN "
               "INSERT INTO documents_fts(documents_fts, rowid, search_text) "
               "VALUES ('delete', old.id, old.search_text); END")
    op.execute("CREATE TRIGGER documents_fts_update AFTER UPDATE OF search_text ON documents "
               "BEGIN INSERT INTO documents_fts(documents_fts, rowid, search_text) "
               "VALUES ('delete', old.id, old.search_text); "
               "INSERT INTO documents_fts(rowid, search_text) "
               "VALUES (new.id, new.search_text); END")


def _grant_verb():
    """Give the new verb to existing roles (new databases get it from ``seed_roles``)."""
    roles = ", ".join(f"'{code}'" for code in ROLES)
    op.execute(sa.text(
        "INSERT INTO role_verbs (role_code, verb) SELECT r.code, :verb FROM roles r "
        f"WHERE r.code IN ({roles}) AND NOT EXISTS (SELECT 1 FROM role_verbs v "
        "WHERE v.role_code = r.code AND v.verb = :verb)"
    ).bindparams(verb=VERB))


def downgrade():
    op.execute(sa.text("DELETE FROM role_verbs WHERE verb = :verb").bindparams(verb=VERB))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_documents_search_fts")
        op.execute("ALTER TABLE documents DROP COLUMN IF EXISTS search_vector")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS documents_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS documents_fts")
    op.drop_table("announcements")
    op.drop_table("document_files")
    op.drop_table("document_links")
    op.drop_table("documents")
    op.drop_table("document_groups")

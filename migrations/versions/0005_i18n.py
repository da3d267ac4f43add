"""i18n: content translations, interface strings from translators, the translation verb.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Roles that get the new verb in databases seeded before it existed.
VERB = "translation.manage"
ROLES = ("province_officer", "admin")


def _audit_columns():
    return [
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
    ]


def upgrade():
    op.create_table(
        "content_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=True),
        *_audit_columns(),
        sa.CheckConstraint("length(text) > 0", name=op.f("ck_content_translations_not_empty")),
        sa.CheckConstraint("locale <> 'vi'",
                           name=op.f("ck_content_translations_not_source_locale")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_content_translations_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_translations")),
        sa.UniqueConstraint("object_type", "object_id", "field", "locale",
                            name="uq_content_translations_key"),
    )
    with op.batch_alter_table("content_translations") as batch_op:
        batch_op.create_index("ix_content_translations_locale_type",
                              ["locale", "object_type"], unique=False)
        batch_op.create_index(op.f("ix_content_translations_updated_by_id"),
                              ["updated_by_id"], unique=False)
    op.create_table(
        "interface_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("msgid", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        *_audit_columns(),
        sa.CheckConstraint("length(text) > 0", name=op.f("ck_interface_translations_not_empty")),
        sa.CheckConstraint("locale NOT IN ('vi', 'en')",
                           name=op.f("ck_interface_translations_not_file_locale")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_interface_translations_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interface_translations")),
        sa.UniqueConstraint("locale", "msgid", name="uq_interface_translations_key"),
    )
    with op.batch_alter_table("interface_translations") as batch_op:
        batch_op.create_index(op.f("ix_interface_translations_updated_by_id"),
                              ["updated_by_id"], unique=False)
    _grant_verb()


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
    op.drop_table("interface_translations")
    op.drop_table("content_translations")

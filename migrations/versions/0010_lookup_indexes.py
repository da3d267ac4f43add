"""Indexes for the receipt, inbox, reports and completeness lookups (issue 17)

- ``submissions.client_uuid``: the receipt, the review page and idempotent resends look a
  submission up by its UUID alone; the unique ``(form_id, client_uuid)`` cannot serve that.
- ``submissions (updated_at, id)``: the inbox, newest change first: PostgreSQL reads it
  backwards and stops at the page (commune and province alike); SQLite reads the commune's
  villages through ``ix_submissions_unit_id``. A ``(state, updated_at)`` index was tried
  and dropped: the inbox shows three of the four states, so it narrows little, and SQLite
  then preferred it and scanned every submission (1.1 s instead of 35 ms at 10,000
  villages, docs/benchmarks.md).
- ``unit_reports (updated_at, id)``: the reports list, newest change first.

And ``definition_stamps``: one counter raised with every change to what an entry form is
built from, so that each server process can keep the forms it built (issue 17 item 2;
``dantoc.submissions.spec_cache``).

Revision ID: 0010
Revises: 0009
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_submissions_client_uuid", "submissions", ["client_uuid"]),
    ("ix_submissions_updated", "submissions", ["updated_at", "id"]),
    ("ix_unit_reports_updated", "unit_reports", ["updated_at", "id"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    stamps = op.create_table(
        "definition_stamps",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_definition_stamps")),
    )
    op.bulk_insert(stamps, [{"name": "forms", "stamp": uuid.uuid4().hex}])


def downgrade():
    op.drop_table("definition_stamps")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)

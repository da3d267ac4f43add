"""submissions: five indexes fewer, each written by every submit and read by no query
(issue 17: server CPU per submit)

- ``ix_submissions_form_id``, ``ix_submission_versions_submission_id``,
  ``ix_submission_values_version_id``: the first column of a unique constraint of the same
  table (``(form_id, client_uuid)`` and ``(form_id, unit_id, period_id)``;
  ``(submission_id, number)``; ``(version_id, indicator_id, disaggregation)``), whose index
  serves every lookup, join and cascade by that column alone, on SQLite and PostgreSQL.
- ``ix_submissions_form_version_id``, ``ix_submissions_created_by_id``: no query selects
  submissions by the form version they were opened with or by who created them; they only
  spared a scan of ``submissions`` when a form version or a user is deleted, which the
  application never does (a form version is superseded, a person disabled).

A new report wrote nine index entries into ``submissions``, two into ``submission_versions``
and three per value (16 values on the benchmark's form: 59 entries in all); now six, one and
two (39). Each is a B-tree page changed and written to the WAL at commit.

Revision ID: 0031
Revises: 0030
"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_submissions_form_id", "submissions", ["form_id"]),
    ("ix_submissions_form_version_id", "submissions", ["form_version_id"]),
    ("ix_submissions_created_by_id", "submissions", ["created_by_id"]),
    ("ix_submission_versions_submission_id", "submission_versions", ["submission_id"]),
    ("ix_submission_values_version_id", "submission_values", ["version_id"]),
)


def upgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)


def downgrade():
    for name, table, columns in reversed(INDEXES):
        op.create_index(name, table, columns)

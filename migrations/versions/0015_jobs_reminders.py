"""jobs: the background job queue; reminders and their outbox of messages; users' phone and
e-mail for reminders

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("phone", sa.String(length=20), nullable=True))
    op.add_column("users", sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')",
                           name=op.f("ck_jobs_state")),
        sa.CheckConstraint("progress_done >= 0 AND progress_total >= 0",
                           name=op.f("ck_jobs_progress")),
        sa.CheckConstraint("attempts >= 0 AND max_attempts >= 1", name=op.f("ck_jobs_attempts")),
        sa.CheckConstraint("(state = 'running') = (locked_by IS NOT NULL)",
                           name=op.f("ck_jobs_lease")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_jobs_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.create_index("ix_jobs_owner_id", ["owner_id"], unique=False)
        batch_op.create_index("ix_jobs_due", ["state", "run_after"], unique=False)
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["admin_units.id"],
                                name=op.f("fk_reminders_unit_id_admin_units")),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], name=op.f("fk_reminders_form_id_forms")),
        sa.ForeignKeyConstraint(["period_id"], ["periods.id"],
                                name=op.f("fk_reminders_period_id_periods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("unit_id", "form_id", "period_id", "day",
                            name="uq_reminders_once_a_day"),
    )
    with op.batch_alter_table("reminders") as batch_op:
        batch_op.create_index("ix_reminders_unit_id", ["unit_id"], unique=False)
    op.create_table(
        "reminder_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_reminder_messages_channel")),
        sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')",
                           name=op.f("ck_reminder_messages_state")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_reminder_messages_attempts")),
        sa.CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)",
                           name=op.f("ck_reminder_messages_sent")),
        sa.ForeignKeyConstraint(["reminder_id"], ["reminders.id"],
                                name=op.f("fk_reminder_messages_reminder_id_reminders")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_reminder_messages_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_reminder_messages_key")),
    )
    with op.batch_alter_table("reminder_messages") as batch_op:
        batch_op.create_index("ix_reminder_messages_reminder_id", ["reminder_id"], unique=False)
        batch_op.create_index("ix_reminder_messages_due", ["state", "next_try_at"], unique=False)


def downgrade():
    op.drop_table("reminder_messages")
    op.drop_table("reminders")
    op.drop_table("jobs")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("phone")

"""jobs.output: the file a background export produced (committed with its ``done``);
reminder_messages.handed_over_at and the state ``unsure``: a message whose worker died after
handing it to the gateway is not sent again blindly (docs/reminders.md)

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('pending', 'sending', 'sent', 'failed')"
NEW_STATES = "state IN ('pending', 'sending', 'sent', 'failed', 'unsure')"


def upgrade():
    op.add_column("jobs", sa.Column("output", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("reminder_messages") as batch_op:
        batch_op.add_column(sa.Column("handed_over_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.drop_constraint(op.f("ck_reminder_messages_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reminder_messages_state"), NEW_STATES)


def downgrade():
    op.execute("UPDATE reminder_messages SET state = 'failed' WHERE state = 'unsure'")
    with op.batch_alter_table("reminder_messages") as batch_op:
        batch_op.drop_constraint(op.f("ck_reminder_messages_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reminder_messages_state"), OLD_STATES)
        batch_op.drop_column("handed_over_at")
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("output")

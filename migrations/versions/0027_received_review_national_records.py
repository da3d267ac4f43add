"""received reports are reviewed (a DHIS2 draft is accepted or rejected with a reason, in the
shared workflow core: version, reason, decider), the received.review verb; and the records
a province copied from its centre are marked with where they came from (synced_from)

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

VERB = "received.review"
#: Existing roles that get the new verb (new databases get theirs from ``seed_roles``).
ROLES = ("admin", "province_officer")
#: The tables whose rows ``flask sync pull`` writes and the admin screens edit.
PULLED = ("catalogue_versions", "indicator_groups", "indicators", "forms", "admin_units",
          "ethnic_groups", "religions")

OLD_STATES = "state IN ('received', 'draft')"
NEW_STATES = "state IN ('received', 'draft', 'rejected')"
OLD_PUSHED = "(origin = 'push') = (state = 'received')"
NEW_PUSHED = "origin <> 'push' OR state = 'received'"
REJECTED_HAS_REASON = "state <> 'rejected' OR state_reason IS NOT NULL"


def _keep_figures(sqlite: bool):
    """SQLite rebuilds ``received_reports`` to change its CHECK constraints: dropping the old
    table deletes its figures (ON DELETE CASCADE, foreign keys are on). Keep them aside."""
    if sqlite:
        op.execute("CREATE TEMP TABLE keep_received_figures AS SELECT * FROM received_figures")


def _restore_figures(sqlite: bool):
    if sqlite:
        op.execute("DELETE FROM received_figures")
        op.execute("INSERT INTO received_figures SELECT * FROM keep_received_figures")
        op.execute("DROP TABLE keep_received_figures")


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    _keep_figures(sqlite)
    with op.batch_alter_table("received_reports") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("state_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(op.f("fk_received_reports_decided_by_id_users"), "users",
                                    ["decided_by_id"], ["id"])
        batch_op.drop_constraint(op.f("ck_received_reports_state"), type_="check")
        batch_op.drop_constraint(op.f("ck_received_reports_pushed_iff_received"), type_="check")
        batch_op.create_check_constraint(op.f("ck_received_reports_state"), NEW_STATES)
        batch_op.create_check_constraint(op.f("ck_received_reports_pushed_is_received"),
                                         NEW_PUSHED)
        batch_op.create_check_constraint(op.f("ck_received_reports_rejected_has_reason"),
                                         REJECTED_HAS_REASON)
    _restore_figures(sqlite)
    # A nullable column added in place on both engines (no rebuild: other tables' foreign
    # keys name these tables, see 0018). NULL: created here, as every existing row was,
    # until the next pull marks what the centre also has.
    for table in PULLED:
        op.add_column(table, sa.Column("synced_from", sa.String(length=300), nullable=True))
    roles = ", ".join(f"'{code}'" for code in ROLES)
    op.execute(sa.text(
        "INSERT INTO role_verbs (role_code, verb) SELECT r.code, :verb FROM roles r "
        f"WHERE r.code IN ({roles}) AND NOT EXISTS (SELECT 1 FROM role_verbs v "
        "WHERE v.role_code = r.code AND v.verb = :verb)"
    ).bindparams(verb=VERB))


def downgrade():
    op.execute(sa.text("DELETE FROM role_verbs WHERE verb = :verb").bindparams(verb=VERB))
    for table in PULLED:  # a plain DROP COLUMN on both engines (SQLite >= 3.35), as 0018
        op.execute(f"ALTER TABLE {table} DROP COLUMN synced_from")
    # the old constraints know no review: every decided import goes back to a draft
    op.execute("UPDATE received_reports SET state = 'draft' WHERE origin <> 'push'")
    sqlite = op.get_bind().dialect.name == "sqlite"
    _keep_figures(sqlite)
    with op.batch_alter_table("received_reports") as batch_op:
        batch_op.drop_constraint(op.f("ck_received_reports_rejected_has_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_received_reports_pushed_is_received"), type_="check")
        batch_op.drop_constraint(op.f("ck_received_reports_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_received_reports_state"), OLD_STATES)
        batch_op.create_check_constraint(op.f("ck_received_reports_pushed_iff_received"),
                                         OLD_PUSHED)
        batch_op.drop_constraint(op.f("fk_received_reports_decided_by_id_users"),
                                 type_="foreignkey")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by_id")
        batch_op.drop_column("state_reason")
        batch_op.drop_column("version")
    _restore_figures(sqlite)

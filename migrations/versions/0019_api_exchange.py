"""api writes: Idempotency-Key answers, received reports and their figures (pushed up by a
province, or imported from DHIS2 as drafts), the DHIS2 mapping tables, pushed reports, and
the api.push verb

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

VERB = "api.push"
#: Existing roles that get the new verb (new databases, and the new role api_reporter, get
#: theirs from ``seed_roles``).
ROLES = ("admin",)


def upgrade():
    op.create_table('dhis2_data_elements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('disaggregation', sa.String(length=200), nullable=False),
    sa.Column('data_element', sa.String(length=50), nullable=False),
    sa.Column('category_option_combo', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_dhis2_data_elements_indicator_id_indicators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dhis2_data_elements')),
    sa.UniqueConstraint('data_element', 'category_option_combo', name='uq_dhis2_data_elements_theirs'),
    sa.UniqueConstraint('indicator_id', 'disaggregation', name='uq_dhis2_data_elements_ours')
    )
    with op.batch_alter_table('dhis2_data_elements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dhis2_data_elements_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('dhis2_org_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('org_unit', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_units.id'], name=op.f('fk_dhis2_org_units_unit_id_admin_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dhis2_org_units')),
    sa.UniqueConstraint('org_unit', name=op.f('uq_dhis2_org_units_org_unit')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_dhis2_org_units_unit_id'))
    )
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'], name=op.f('fk_idempotency_keys_client_id_api_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('client_id', 'key', name='uq_idempotency_keys_one')
    )
    op.create_table('received_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=True),
    sa.Column('form_version', sa.SmallInteger(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('source_version', sa.Integer(), nullable=True),
    sa.Column('provenance', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(origin = 'push') = (state = 'received')", name=op.f('ck_received_reports_pushed_iff_received')),
    sa.CheckConstraint("origin <> 'push' OR (form_id IS NOT NULL AND form_version IS NOT NULL AND source_version IS NOT NULL)", name=op.f('ck_received_reports_pushed_has_form')),
    sa.CheckConstraint("origin IN ('push', 'dhis2')", name=op.f('ck_received_reports_origin')),
    sa.CheckConstraint("state IN ('received', 'draft')", name=op.f('ck_received_reports_state')),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'], name=op.f('fk_received_reports_client_id_api_clients')),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_received_reports_form_id_forms')),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], name=op.f('fk_received_reports_period_id_periods')),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_units.id'], name=op.f('fk_received_reports_unit_id_admin_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_received_reports')),
    sa.UniqueConstraint('origin', 'form_id', 'unit_id', 'period_id', name='uq_received_reports_one')
    )
    with op.batch_alter_table('received_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_received_reports_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_received_reports_form_id'), ['form_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_received_reports_period_id'), ['period_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_received_reports_unit_id'), ['unit_id'], unique=False)

    op.create_table('received_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('disaggregation', sa.String(length=200), nullable=False),
    sa.Column('value_numeric', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('value_counts', sa.JSON(), nullable=True),
    sa.Column('villages', sa.Integer(), nullable=True),
    sa.CheckConstraint('(value_numeric IS NULL) <> (value_counts IS NULL)', name=op.f('ck_received_figures_one_value')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_received_figures_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['report_id'], ['received_reports.id'], name=op.f('fk_received_figures_report_id_received_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_received_figures')),
    sa.UniqueConstraint('report_id', 'indicator_id', 'disaggregation', name='uq_received_figures_one')
    )
    with op.batch_alter_table('received_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_received_figures_indicator_id'), ['indicator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_received_figures_report_id'), ['report_id'], unique=False)

    op.create_table('sync_pushes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('peer', sa.String(length=300), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('report_version', sa.Integer(), nullable=False),
    sa.Column('remote_id', sa.Integer(), nullable=True),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['unit_reports.id'], name=op.f('fk_sync_pushes_report_id_unit_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_pushes')),
    sa.UniqueConstraint('peer', 'report_id', 'report_version', name='uq_sync_pushes_one')
    )
    with op.batch_alter_table('sync_pushes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_pushes_report_id'), ['report_id'], unique=False)
    roles = ", ".join(f"'{code}'" for code in ROLES)
    op.execute(sa.text(
        "INSERT INTO role_verbs (role_code, verb) SELECT r.code, :verb FROM roles r "
        f"WHERE r.code IN ({roles}) AND NOT EXISTS (SELECT 1 FROM role_verbs v "
        "WHERE v.role_code = r.code AND v.verb = :verb)"
    ).bindparams(verb=VERB))



def downgrade():
    op.execute(sa.text("DELETE FROM role_verbs WHERE verb = :verb").bindparams(verb=VERB))
    with op.batch_alter_table('sync_pushes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_pushes_report_id'))

    op.drop_table('sync_pushes')
    with op.batch_alter_table('received_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_received_figures_report_id'))
        batch_op.drop_index(batch_op.f('ix_received_figures_indicator_id'))

    op.drop_table('received_figures')
    with op.batch_alter_table('received_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_received_reports_unit_id'))
        batch_op.drop_index(batch_op.f('ix_received_reports_period_id'))
        batch_op.drop_index(batch_op.f('ix_received_reports_form_id'))
        batch_op.drop_index(batch_op.f('ix_received_reports_client_id'))

    op.drop_table('received_reports')
    op.drop_table('idempotency_keys')
    op.drop_table('dhis2_org_units')
    with op.batch_alter_table('dhis2_data_elements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dhis2_data_elements_indicator_id'))

    op.drop_table('dhis2_data_elements')

"""organisation admin: local facts per unit, and what an audited change was about

A local fact may now be set for one unit of the organisation (unit_id), overriding
the organisation's value for the relatives whose card that unit issued; one value
per organisation, unit and key. The audit log says which key a change touched.

Revision ID: 0012
Revises: 0004
Create Date: 2026-12-01 10:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('local_fact_value', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_local_fact_value_unit_id_unit'), 'unit', ['unit_id'], ['id']
        )
        batch_op.drop_constraint('uq_local_fact_value_organisation_id_key', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_local_fact_value_organisation_id_unit_id_key'),
            ['organisation_id', 'unit_id', 'key'],
        )

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('detail')

    op.execute('DELETE FROM local_fact_value WHERE unit_id IS NOT NULL')
    with op.batch_alter_table('local_fact_value', schema=None) as batch_op:
        batch_op.drop_constraint('uq_local_fact_value_organisation_id_unit_id_key', type_='unique')
        batch_op.create_unique_constraint(
            'uq_local_fact_value_organisation_id_key', ['organisation_id', 'key']
        )
        batch_op.drop_constraint('fk_local_fact_value_unit_id_unit', type_='foreignkey')
        batch_op.drop_column('unit_id')

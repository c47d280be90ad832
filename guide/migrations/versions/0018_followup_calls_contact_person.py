"""follow-up calls, case targets and the relative's named contact person

A guide's follow-up calls are handled once per enrolment (followup_call, unique on
enrolment and call). Alerts get the moment they are there to work (due_at), a target
for first contact (target_at) and the staff member they go to first. Staff choose
what relatives see of them (staff_profile); contact_person names a relative's
contact in one enrolment.

Revision ID: 0018
Revises: 0004
Create Date: 2026-12-01 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('target_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('assigned_staff_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_alert_assigned_staff_id_staff_user'), 'staff_user', ['assigned_staff_id'], ['id']
        )
    # Cases from before had no target: they are there to work from when they came in.
    op.execute("UPDATE alert SET due_at = created_at WHERE due_at IS NULL")

    op.create_table('followup_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('followup_id', sa.String(length=100), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('target_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_followup_call_alert_id_alert')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_followup_call_enrolment_id_enrolment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_call')),
    sa.UniqueConstraint('enrolment_id', 'followup_id', name=op.f('uq_followup_call_enrolment_id_followup_id'))
    )
    with op.batch_alter_table('followup_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_call_enrolment_id'), ['enrolment_id'], unique=False)

    op.create_table('staff_profile',
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('reach', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_staff_profile_staff_user_id_staff_user')),
    sa.PrimaryKeyConstraint('staff_user_id', name=op.f('pk_staff_profile'))
    )

    op.create_table('contact_person',
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by_staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_contact_person_enrolment_id_enrolment')),
    sa.ForeignKeyConstraint(['set_by_staff_id'], ['staff_user.id'], name=op.f('fk_contact_person_set_by_staff_id_staff_user')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_contact_person_staff_user_id_staff_user')),
    sa.PrimaryKeyConstraint('enrolment_id', name=op.f('pk_contact_person'))
    )
    with op.batch_alter_table('contact_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_person_staff_user_id'), ['staff_user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('contact_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_person_staff_user_id'))
    op.drop_table('contact_person')
    op.drop_table('staff_profile')
    with op.batch_alter_table('followup_call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_call_enrolment_id'))
    op.drop_table('followup_call')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alert_assigned_staff_id_staff_user'), type_='foreignkey')
        batch_op.drop_column('assigned_staff_id')
        batch_op.drop_column('target_at')
        batch_op.drop_column('due_at')

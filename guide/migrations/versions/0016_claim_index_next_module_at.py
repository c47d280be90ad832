"""release pass at scale: a partial claim index, and the next module's date stored

The release pass claims `status = 'active' AND next_due_at <= now ORDER BY
next_due_at, id`; a partial index on (next_due_at, id) over the active rows reads a
batch in order without sorting whatever the number enrolled, and stays small
because finished enrolments are not in it. `next_module_at` is what the planner
said last about the next scheduled module, stored by the pass (and at enrolment
and answers), so the relative's pages need not run the planner.

Revision ID: 0016
Revises: 0004
Create Date: 2026-12-01 10:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_module_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index('ix_enrolment_due')
        batch_op.create_index(
            'ix_enrolment_claim',
            ['next_due_at', 'id'],
            unique=False,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )


def downgrade():
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolment_claim')
        batch_op.create_index('ix_enrolment_due', ['status', 'next_due_at'], unique=False)
        batch_op.drop_column('next_module_at')

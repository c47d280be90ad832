"""outbox: messages that could not be rendered wait for a new release; the phase last mailed

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_release', sa.String(length=64), nullable=True))
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified_phase', sa.String(length=64), nullable=True))
    # Messages that an earlier release retried for ever because rendering failed.
    op.execute(
        "UPDATE outbox_message SET status = 'pending', attempts = 0, last_error = NULL "
        "WHERE status IN ('pending', 'failed') AND last_error LIKE 'rendering failed:%'"
    )


def downgrade():
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_column('notified_phase')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('failed_release')

"""privacy: discreet mail opt-in, last login, retention warnings

A relative may opt in to guide and module titles in the mail of a sensitive guide
(relative.titles_in_email). Retention counts inactivity from the last login
(relative.last_login_at), the last read and the last answer; an enrolment warned
before erasure keeps the time of the warning and of a "keep me".

Revision ID: 0013
Revises: 0004
Create Date: 2026-12-01 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('relative', schema=None) as batch_op:
        batch_op.add_column(sa.Column('titles_in_email', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_warned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('retention_kept_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_column('retention_kept_at')
        batch_op.drop_column('retention_warned_at')

    with op.batch_alter_table('relative', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('titles_in_email')

"""security: pending accounts, proved addresses, session versions, deactivated staff

Login-link requests are counted per (hashed) address. A card proves a card, not an address: a redemption with an address that has an
account makes a pending account (claimed_email) that a mailed link attaches
(login_token.attach_relative_id). Sessions carry a version so logout and
deactivation end every copy of a cookie; tokens from a redemption say they did
not prove the address.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_link_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mailed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_link_request'))
    )
    with op.batch_alter_table('login_link_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_link_request_address_hash'), ['address_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_link_request_requested_at'), ['requested_at'], unique=False)

    with op.batch_alter_table('relative', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('email_proved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_relative_claimed_email'), ['claimed_email'], unique=False)

    with op.batch_alter_table('login_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attach_relative_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_login_token_attach_relative_id_relative'), 'relative', ['attach_relative_id'], ['id']
        )

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_proved', sa.Boolean(), server_default=sa.true(), nullable=False))

    # An address whose login link was used is proved. A relative's token from before
    # cannot say whether it came from a login link or from redeeming a card (perhaps
    # with someone else's address), so it counts as unproved: it stops at once where
    # the address is proved, and the app asks the relative for a login link again.
    op.execute(
        "UPDATE relative SET email_proved_at = created_at "
        "WHERE email IS NOT NULL AND id IN (SELECT relative_id FROM login_token WHERE used_at IS NOT NULL)"
    )
    op.execute("UPDATE api_token SET address_proved = false WHERE relative_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('address_proved')

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
        batch_op.drop_column('deactivated_at')

    with op.batch_alter_table('login_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_login_token_attach_relative_id_relative'), type_='foreignkey')
        batch_op.drop_column('attach_relative_id')

    with op.batch_alter_table('relative', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relative_claimed_email'))
        batch_op.drop_column('session_version')
        batch_op.drop_column('email_proved_at')
        batch_op.drop_column('claimed_email')

    with op.batch_alter_table('login_link_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_link_request_requested_at'))
        batch_op.drop_index(batch_op.f('ix_login_link_request_address_hash'))
    op.drop_table('login_link_request')

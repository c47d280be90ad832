"""editor workspace: drafts under review and what editors published

Revision ID: 0011
Revises: 0004
Create Date: 2026-12-01 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('editor_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.String(length=64), nullable=False),
    sa.Column('module_id', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('retire', sa.Boolean(), nullable=False),
    sa.Column('base_version_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_version_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['staff_user.id'], name=op.f('fk_editor_draft_author_id_staff_user')),
    sa.ForeignKeyConstraint(['base_version_id'], ['module_version.id'], name=op.f('fk_editor_draft_base_version_id_module_version')),
    sa.ForeignKeyConstraint(['published_version_id'], ['module_version.id'], name=op.f('fk_editor_draft_published_version_id_module_version')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff_user.id'], name=op.f('fk_editor_draft_reviewer_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_editor_draft'))
    )
    with op.batch_alter_table('editor_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_editor_draft_guide_id'), ['guide_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_editor_draft_state'), ['state'], unique=False)

    op.create_table('module_publication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.String(length=64), nullable=False),
    sa.Column('module_id', sa.String(length=100), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('in_files', sa.Boolean(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['staff_user.id'], name=op.f('fk_module_publication_author_id_staff_user')),
    sa.ForeignKeyConstraint(['draft_id'], ['editor_draft.id'], name=op.f('fk_module_publication_draft_id_editor_draft')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff_user.id'], name=op.f('fk_module_publication_reviewer_id_staff_user')),
    sa.ForeignKeyConstraint(['version_id'], ['module_version.id'], name=op.f('fk_module_publication_version_id_module_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_publication'))
    )
    with op.batch_alter_table('module_publication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_module_publication_guide_id'), ['guide_id'], unique=False)


def downgrade():
    with op.batch_alter_table('module_publication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_module_publication_guide_id'))
    op.drop_table('module_publication')
    with op.batch_alter_table('editor_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_editor_draft_state'))
        batch_op.drop_index(batch_op.f('ix_editor_draft_guide_id'))
    op.drop_table('editor_draft')

"""Submissions and their flags: the essays students submit, with the engine's reports.

Revision ID: 0001_submissions
Revises:
Create Date: 2026-11-22 13:26:27
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001_submissions'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('question', sa.String(length=32), nullable=False),
    sa.Column('student_name', sa.String(length=80), nullable=True),
    sa.Column('class_code', sa.String(length=32), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('report', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('mark', sa.Integer(), nullable=True),
    sa.Column('max_mark', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('word_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=255), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('root_id', sa.Integer(), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.CheckConstraint("source IN ('web', 'cli', 'upload')", name=op.f('ck_submissions_source_known')),
    sa.CheckConstraint('attempt >= 1', name=op.f('ck_submissions_attempt_positive')),
    sa.ForeignKeyConstraint(['parent_id'], ['submissions.id'], name=op.f('fk_submissions_parent_id_submissions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['root_id'], ['submissions.id'], name=op.f('fk_submissions_root_id_submissions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_class_code'), ['class_code'], unique=False)
        batch_op.create_index('ix_submissions_class_question_created', ['class_code', 'question', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_mark'), ['mark'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_question'), ['question'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_root_id'), ['root_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_token'), ['token'], unique=True)

    op.create_table('submission_flags',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('flag', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_flags_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id', 'flag', name=op.f('pk_submission_flags'))
    )
    with op.batch_alter_table('submission_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_flags_flag'), ['flag'], unique=False)



def downgrade():
    with op.batch_alter_table('submission_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_flags_flag'))

    op.drop_table('submission_flags')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_token'))
        batch_op.drop_index(batch_op.f('ix_submissions_source'))
        batch_op.drop_index(batch_op.f('ix_submissions_root_id'))
        batch_op.drop_index(batch_op.f('ix_submissions_question'))
        batch_op.drop_index(batch_op.f('ix_submissions_parent_id'))
        batch_op.drop_index(batch_op.f('ix_submissions_mark'))
        batch_op.drop_index(batch_op.f('ix_submissions_level'))
        batch_op.drop_index(batch_op.f('ix_submissions_created_at'))
        batch_op.drop_index('ix_submissions_class_question_created')
        batch_op.drop_index(batch_op.f('ix_submissions_class_code'))

    op.drop_table('submissions')

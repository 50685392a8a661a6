"""Teachers, their failed sign-ins, and their reviews of submissions (current state and every change).

Revision ID: 0002_teachers_reviews
Revises: 0001_submissions
Create Date: 2026-11-22 13:50:03
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002_teachers_reviews'
down_revision = '0001_submissions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_login_attempts_email_ip_at', ['email', 'ip', 'created_at'], unique=False)
        batch_op.create_index('ix_login_attempts_ip_at', ['ip', 'created_at'], unique=False)

    op.create_table('teachers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teachers'))
    )
    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teachers_email'), ['email'], unique=True)

    op.create_table('review_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('teacher_email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('reverts_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("action IN ('override', 'revert')", name=op.f('ck_review_changes_action_known')),
    sa.ForeignKeyConstraint(['reverts_id'], ['review_changes.id'], name=op.f('fk_review_changes_reverts_id_review_changes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_review_changes_submission_id_submissions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_review_changes_teacher_id_teachers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_changes'))
    )
    with op.batch_alter_table('review_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_changes_submission_id'), ['submission_id'], unique=False)

    op.create_table('reviews',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('mark', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('criteria', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_reviews_submission_id_submissions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_reviews_teacher_id_teachers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_mark'), ['mark'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_teacher_id'), ['teacher_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_updated_at'), ['updated_at'], unique=False)



def downgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_updated_at'))
        batch_op.drop_index(batch_op.f('ix_reviews_teacher_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_mark'))
        batch_op.drop_index(batch_op.f('ix_reviews_level'))

    op.drop_table('reviews')
    with op.batch_alter_table('review_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_changes_submission_id'))

    op.drop_table('review_changes')
    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teachers_email'))

    op.drop_table('teachers')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_ip_at')
        batch_op.drop_index('ix_login_attempts_email_ip_at')
        batch_op.drop_index(batch_op.f('ix_login_attempts_created_at'))

    op.drop_table('login_attempts')

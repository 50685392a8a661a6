"""Release control per class, and students' requests to look again at a mark.

Existing classes keep showing feedback at once (release_mode 'immediate'); no essay is released
or held by the upgrade, so every student sees exactly what they saw before.

Revision ID: 0006_release_look_again
Revises: 0005_classes_roles
Create Date: 2026-12-01 11:40:00
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006_release_look_again'
down_revision = '0005_classes_roles'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('release_mode', sa.String(length=16), server_default='immediate', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_classes_release_mode_known'),
                                         "release_mode IN ('immediate', 'after_review')")

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('look_again_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('teacher_email', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_look_again_requests_submission_id_submissions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_look_again_requests_teacher_id_teachers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_look_again_requests'))
    )
    with op.batch_alter_table('look_again_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_look_again_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_look_again_requests_submission_id'), ['submission_id'], unique=False)
        # One open request per essay, held by the database even when two posts race.
        batch_op.create_index('uq_look_again_requests_open', ['submission_id'], unique=True,
                              sqlite_where=sa.text('answered_at IS NULL'),
                              postgresql_where=sa.text('answered_at IS NULL'))


def downgrade():
    with op.batch_alter_table('look_again_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_look_again_requests_open')
        batch_op.drop_index(batch_op.f('ix_look_again_requests_submission_id'))
        batch_op.drop_index(batch_op.f('ix_look_again_requests_created_at'))

    op.drop_table('look_again_requests')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('released_at')

    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_classes_release_mode_known'), type_='check')
        batch_op.drop_column('release_mode')

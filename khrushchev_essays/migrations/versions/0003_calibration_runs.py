"""Retrainings of the calibrator from teachers' reviews: who, when, agreement before and after, the outcome.

Revision ID: 0003_calibration_runs
Revises: 0002_teachers_reviews
Create Date: 2026-11-22 14:42:59
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003_calibration_runs'
down_revision = '0002_teachers_reviews'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calibration_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('trained_by', sa.String(length=254), nullable=False),
    sa.Column('reviews', sa.Integer(), nullable=False),
    sa.Column('before_by', sa.String(length=64), nullable=False),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('rules', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('model_id', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.CheckConstraint("outcome IN ('installed', 'kept', 'not_used')", name=op.f('ck_calibration_runs_outcome_known')),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_calibration_runs_teacher_id_teachers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_runs'))
    )
    with op.batch_alter_table('calibration_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calibration_runs_question'), ['question'], unique=False)



def downgrade():
    with op.batch_alter_table('calibration_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_runs_question'))
        batch_op.drop_index(batch_op.f('ix_calibration_runs_created_at'))

    op.drop_table('calibration_runs')

"""Roles, classes with join codes, submissions in a class, and the audit log.

Existing data is kept: every submission keeps its free-text class code and gets no class (admins
see them and can attach a code's essays to a class); the earliest teacher account becomes an
admin, so an existing install still has someone who can manage the others.

Revision ID: 0005_classes_roles
Revises: 0003_calibration_runs
Create Date: 2026-12-01 09:10:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0005_classes_roles'
down_revision = '0003_calibration_runs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('classes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('join_code', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classes'))
    )
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classes_join_code'), ['join_code'], unique=True)

    op.create_table('class_teachers',
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_class_teachers_class_id_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_class_teachers_teacher_id_teachers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('class_id', 'teacher_id', name=op.f('pk_class_teachers'))
    )
    with op.batch_alter_table('class_teachers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_teachers_teacher_id'), ['teacher_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_audit_events_teacher_id_teachers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), server_default='teacher', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_teachers_role_known'), "role IN ('admin', 'teacher')")

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('class_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_submissions_class_id'), ['class_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_submissions_class_id_classes'), 'classes', ['class_id'], ['id'],
                                    ondelete='SET NULL')

    # Someone must be able to manage accounts: the earliest teacher becomes the admin.
    op.execute("UPDATE teachers SET role = 'admin' WHERE id = (SELECT MIN(id) FROM teachers)")


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_submissions_class_id_classes'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_submissions_class_id'))
        batch_op.drop_column('class_id')

    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_teachers_role_known'), type_='check')
        batch_op.drop_column('role')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('class_teachers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_teachers_teacher_id'))

    op.drop_table('class_teachers')
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classes_join_code'))

    op.drop_table('classes')

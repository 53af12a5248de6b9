"""The working group's week (issue 16): attendance (present/absent), decision owner and roadmap link,
meeting version (optimistic locking), audit batches (undo of the last change), per-group roles.

Revision ID: 0003
Revises: 0002 (sessions, issue 15)
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('meeting_attendees') as b:
        b.add_column(sa.Column('present', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('meetings') as b:
        b.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('decisions') as b:
        b.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        b.add_column(sa.Column('target_id', sa.String(length=128), nullable=True))
        b.create_foreign_key(op.f('fk_decisions_owner_id_institutions'), 'institutions', ['owner_id'], ['id'])
    with op.batch_alter_table('audit_log') as b:
        b.add_column(sa.Column('batch', sa.String(length=32), nullable=True))
        b.create_index(op.f('ix_audit_log_batch'), ['batch'], unique=False)
    op.create_table(
        'group_roles',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_roles_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['group_id'], ['working_groups.id'],
                                name=op.f('fk_group_roles_group_id_working_groups'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'group_id', name=op.f('pk_group_roles')),
    )


def downgrade() -> None:
    op.drop_table('group_roles')
    with op.batch_alter_table('audit_log') as b:
        b.drop_index(op.f('ix_audit_log_batch'))
        b.drop_column('batch')
    with op.batch_alter_table('decisions') as b:
        b.drop_constraint(op.f('fk_decisions_owner_id_institutions'), type_='foreignkey')
        b.drop_column('target_id')
        b.drop_column('owner_id')
    with op.batch_alter_table('meetings') as b:
        b.drop_column('version')
    with op.batch_alter_table('meeting_attendees') as b:
        b.drop_column('present')

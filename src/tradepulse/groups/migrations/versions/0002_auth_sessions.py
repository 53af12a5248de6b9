"""Dashboard accounts: case-insensitive user-name key and server-side sessions (issue 15).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 02:30:00

``users.username_key`` = ``casefold(NFKC(username))`` is back-filled; when two existing users share a key
(``Admin`` and ``admin``), the later one gets ``<key>#<id>`` so the upgrade never fails, and can only log
in under that spelling until an administrator renames it.  ``web_sessions`` holds SHA-256 digests of
session tokens.
"""
from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", str(name)).strip().casefold())


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=128), nullable=True))
    conn = op.get_bind()
    seen: set[str] = set()
    for uid, name in conn.execute(sa.text("SELECT id, username FROM users ORDER BY id")).fetchall():
        key = _key(name)
        if key in seen:
            key = f"{key}#{uid}"
        seen.add(key)
        conn.execute(sa.text("UPDATE users SET username_key = :k WHERE id = :i"), {"k": key, "i": uid})
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('username_key', existing_type=sa.String(length=128), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_username_key'), ['username_key'])

    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
    op.drop_table('web_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_username_key'), type_='unique')
        batch_op.drop_column('username_key')

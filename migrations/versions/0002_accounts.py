"""accounts: password hash and role on users, API tokens, failed sign-ins

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 11:00:00

Written by hand. The users table is altered in place with ADD COLUMN, never copied by a batch
operation: a batch copy on SQLite would silently drop the expression indexes on lower(username)
and lower(email), which Alembic cannot reflect.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
ROLE_CHECK = "role IN ('member', 'admin')"


def upgrade():
    op.add_column('users', sa.Column('password_hash', sa.String(length=255), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with its own CHECK constraint in place; ADD CONSTRAINT does not exist.
        op.execute(
            "ALTER TABLE users ADD COLUMN role VARCHAR(10) DEFAULT 'member' NOT NULL "
            f"CONSTRAINT ck_users_role CHECK ({ROLE_CHECK})"
        )
    else:
        op.add_column('users', sa.Column('role', sa.String(length=10), server_default='member', nullable=False))
        op.create_check_constraint(op.f('ck_users_role'), 'users', ROLE_CHECK)
    op.create_index('ix_users_role', 'users', ['role'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', RowId, nullable=False),
    sa.Column('user_id', RowId, nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('digest', name=op.f('uq_api_tokens_digest'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)

    op.create_table('sign_in_failures',
    sa.Column('id', RowId, nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pending', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    op.create_index('ix_sign_in_failures_scope_key', 'sign_in_failures', ['scope', 'key', 'failed_at'], unique=False)
    op.create_index('ix_sign_in_failures_failed_at', 'sign_in_failures', ['failed_at'], unique=False)


def downgrade():
    op.drop_index('ix_sign_in_failures_failed_at', table_name='sign_in_failures')
    op.drop_index('ix_sign_in_failures_scope_key', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_index('ix_users_role', table_name='users')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE users DROP COLUMN role')  # SQLite ≥ 3.35, in place
        op.execute('ALTER TABLE users DROP COLUMN password_hash')
    else:
        op.drop_constraint(op.f('ck_users_role'), 'users', type_='check')
        op.drop_column('users', 'role')
        op.drop_column('users', 'password_hash')

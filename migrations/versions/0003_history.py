"""history: the audit table, and ids that are never reused on SQLite (AUTOINCREMENT)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:30:00

Written by hand. SQLite can give a table AUTOINCREMENT only by rebuilding it, and a batch rebuild
loses what Alembic cannot reflect there: the expression indexes on lower(username),
lower(email) and lower(title), which are made again here. migrations/env.py runs SQLite
migrations with foreign keys off (dropping the old users table would otherwise delete every post
through ON DELETE CASCADE) and runs PRAGMA foreign_key_check before committing.
PostgreSQL sequences never hand out an id twice: nothing to rebuild there.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
EXPRESSION_INDEXES = [
    ('uq_users_username_lower', 'users', 'lower(username)', True),
    ('uq_users_email_lower', 'users', 'lower(email)', True),
    ('ix_posts_title_lower', 'posts', 'lower(title)', False),
]


# users as 0002 left it on SQLite: role's CHECK inside the column, so that 0002's downgrade can
# drop the column (a batch rebuild turns it into a table constraint, which DROP COLUMN refuses).
USERS_0002 = """CREATE TABLE users_0002 (
    id INTEGER NOT NULL, username VARCHAR(80) NOT NULL, email VARCHAR(120) NOT NULL,
    post_count INTEGER DEFAULT '0' NOT NULL, version INTEGER DEFAULT '1' NOT NULL,
    created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, password_hash VARCHAR(255),
    role VARCHAR(10) DEFAULT 'member' NOT NULL CONSTRAINT ck_users_role CHECK (role IN ('member', 'admin')),
    CONSTRAINT pk_users PRIMARY KEY (id))"""
USER_COLUMNS = 'id, username, email, post_count, version, created_at, updated_at, password_hash, role'


def rebuild_sqlite_tables(autoincrement):
    for name, _table, _expression, _unique in EXPRESSION_INDEXES:
        op.drop_index(name)
    if autoincrement:
        tables = ('users', 'posts')
    else:
        tables = ('posts',)
        for name in ('ix_users_created_at', 'ix_users_post_count', 'ix_users_role'):
            op.drop_index(name)
        op.execute(USERS_0002)
        op.execute(f'INSERT INTO users_0002 ({USER_COLUMNS}) SELECT {USER_COLUMNS} FROM users')
        op.execute('DROP TABLE users')
        op.execute('ALTER TABLE users_0002 RENAME TO users')
        op.create_index('ix_users_created_at', 'users', ['created_at'])
        op.create_index('ix_users_post_count', 'users', ['post_count'])
        op.create_index('ix_users_role', 'users', ['role'])
    for table in tables:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
        ):
            pass
    for name, table, expression, unique in EXPRESSION_INDEXES:
        op.create_index(name, table, [sa.text(expression)], unique=unique)


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        rebuild_sqlite_tables(autoincrement=True)
    op.create_table('history',
    sa.Column('id', RowId, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', RowId, nullable=True),
    sa.Column('actor_name', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('object_id', RowId, nullable=True),
    sa.Column('owner_id', RowId, nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_history_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_history'))
    )
    op.create_index('ix_history_object', 'history', ['kind', 'object_id', 'id'], unique=False)
    op.create_index('ix_history_actor_id', 'history', ['actor_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_history_actor_id', table_name='history')
    op.drop_index('ix_history_object', table_name='history')
    op.drop_table('history')
    if op.get_bind().dialect.name == 'sqlite':
        rebuild_sqlite_tables(autoincrement=False)

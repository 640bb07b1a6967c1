"""sort indexes: one index per list sort, ending with the id as the sort does

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:00:00

Written by hand, with plain CREATE INDEX and DROP INDEX only: no batch rebuild of users or
posts, which on SQLite would drop what Alembic cannot reflect there (the expression indexes and
the search triggers of another migration).

Each sort of the lists ends with the id, so that equal keys keep their order across pages
(myapp/users/queries.py and myapp/posts/queries.py SORT_COLUMNS). An index that ends with the
id too gives a page in index order, without sorting a group of equal keys (3M posts share 180
titles; 1M seeded users have 3 posts each), and lets a typed deep page count past index entries
alone. SQLite ends every index with the rowid, which is the id, so there the new two-column
indexes replace one-column ones entry for entry (same rows, same order, kept under the new names
so that both databases have one schema); the copies of the unique lower(username) and
lower(email) indexes with the id are made on PostgreSQL only. Posts also get (user_id,
created_at, id): a user's posts newest first, read from one index range however many they wrote.

On PostgreSQL each CREATE INDEX holds a lock that makes writers to its table wait while it
builds (seconds at a million users and 3M posts); run it before starting the app, as
`make run` does.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# (name, table, columns, made on SQLite too, PostgreSQL's INCLUDE): PostgreSQL reads an index on
# lower(x) alone (an index-only scan, what a deep OFFSET needs) only when it holds x too.
NEW_INDEXES = [
    ('ix_users_post_count_id', 'users', ['post_count', 'id'], True, []),
    ('ix_users_created_at_id', 'users', ['created_at', 'id'], True, []),
    ('ix_users_username_lower_id', 'users', [sa.text('lower(username)'), 'id'], False, ['username']),
    ('ix_users_email_lower_id', 'users', [sa.text('lower(email)'), 'id'], False, ['email']),
    ('ix_posts_created_at_id', 'posts', ['created_at', 'id'], True, []),
    ('ix_posts_title_lower_id', 'posts', [sa.text('lower(title)'), 'id'], True, ['title']),
    ('ix_posts_user_id_created_at_id', 'posts', ['user_id', 'created_at', 'id'], True, []),
]
# What the new indexes replace, as 0001 made them: (name, table, columns).
SUPERSEDED = [
    ('ix_users_post_count', 'users', ['post_count']),
    ('ix_users_created_at', 'users', ['created_at']),
    ('ix_posts_created_at', 'posts', ['created_at']),
    ('ix_posts_title_lower', 'posts', [sa.text('lower(title)')]),
]


def new_indexes():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    return [
        (name, table, columns, include)
        for name, table, columns, on_sqlite, include in NEW_INDEXES
        if on_sqlite or not sqlite
    ]


def upgrade():
    for name, table, columns, include in new_indexes():
        op.create_index(name, table, columns, unique=False, postgresql_include=include)
    for name, table, _columns in SUPERSEDED:
        op.drop_index(name, table_name=table)
    refresh_statistics()


def refresh_statistics():
    """Planner statistics for the new indexes, as `flask seed` keeps them for the old ones.

    Without them SQLite guesses, and on a big table it guesses wrong (it sorted every post for
    /posts?sort=author before seed ran ANALYZE). analysis_limit bounds the work per index.
    """
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('PRAGMA analysis_limit = 1000')
        for name, _table, _columns, _include in new_indexes():
            op.execute(f'ANALYZE {name}')
    else:
        op.execute('ANALYZE users, posts')  # a sample of each table; expression statistics too


def downgrade():
    for name, table, columns in SUPERSEDED:
        op.create_index(name, table, columns, unique=False)
    for name, table, _columns, _include in reversed(new_indexes()):
        op.drop_index(name, table_name=table)

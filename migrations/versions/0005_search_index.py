"""search index: FTS5 trigram tables on SQLite, pg_trgm GIN indexes on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 14:00:00

Written by hand, from the definitions in myapp/search/index.py (the ones the tests' create_all uses in
the tests), so that there is one of them. SQLite: users_fts(username, email) and posts_fts(title),
external content over users and posts, filled from the rows already there ('rebuild') and kept in
step by triggers. PostgreSQL: CREATE EXTENSION pg_trgm and GIN trigram indexes for ILIKE.

A later SQLite batch rebuild of users or posts drops these triggers silently: such a migration
must call myapp.search.index.create_triggers(op.get_bind(), table) after it (see migrations/env.py).
"""
from alembic import op

from myapp.search import index


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None



def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for table in index.FTS_TABLES:
            index.create_index(bind, table)
    elif bind.dialect.name == 'postgresql':
        index.create_trigram_extension(bind)
        for name, table, column in index.TRIGRAM_INDEXES:
            op.create_index(
                name, table, [column], postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'}
            )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for table in index.FTS_TABLES:
            index.drop_index(bind, table)
    elif bind.dialect.name == 'postgresql':
        for name, table, _column in index.TRIGRAM_INDEXES:
            op.drop_index(name, table_name=table)
        # pg_trgm stays: an extension belongs to the whole database, and something else may use it.

"""page counts: rows per prefix of the default sorts' keys, for typed ?page=N (myapp/page_counts.py)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 16:30:00

Written by hand. The table is filled from the rows already there (myapp.page_counts.rebuild, the
function `flask restore` uses too): at 1M users and 3M posts, one grouped scan per prefix length,
about 30 s on SQLite. Run it before starting the app, as `make run` does: the counts are right only
if no write lands between the scan and the commit (on SQLite the migration holds the write lock).
"""
from alembic import op
import sqlalchemy as sa

from myapp import page_counts


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('page_counts',
    sa.Column('list', sa.String(length=20), nullable=False),
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('prefix', sa.String(length=80), nullable=False),
    sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('parent', sa.String(length=80), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('list', 'level', 'prefix', 'shard', name=op.f('pk_page_counts'))
    )
    op.create_index('ix_page_counts_parent', 'page_counts', ['list', 'level', 'parent', 'prefix'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('SET LOCAL statement_timeout = 0')  # the app's own timeout is for requests
    page_counts.rebuild(op.get_bind())


def downgrade():
    op.drop_index('ix_page_counts_parent', table_name='page_counts')
    op.drop_table('page_counts')

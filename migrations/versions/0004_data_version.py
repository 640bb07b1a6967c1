"""data version: the table whose generations every committed write adds to (ETags, page cache)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 14:00:00

Written by hand. Shard 0 is made here with a random epoch; PostgreSQL writers add the other shards
on first use (myapp/data_version.py).
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    data_versions = op.create_table('data_versions',
    sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('epoch', sa.String(length=32), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('shard', name=op.f('pk_data_versions'))
    )
    op.bulk_insert(data_versions, [{'shard': 0, 'generation': 0, 'epoch': secrets.token_hex(8)}])


def downgrade():
    op.drop_table('data_versions')

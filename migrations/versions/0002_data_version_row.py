"""Seed the data-version counter row that dashboard caches key on.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Created here so that the first two concurrent writes never race to insert it.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    setting = sa.table(
        'setting',
        sa.column('key', sa.String), sa.column('value', sa.String),
        sa.column('version', sa.Integer), sa.column('created_at', sa.DateTime),
        sa.column('updated_at', sa.DateTime),
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(setting, [{'key': 'data_version', 'value': '0', 'version': 1,
                              'created_at': now, 'updated_at': now}])


def downgrade():
    op.execute("DELETE FROM setting WHERE key = 'data_version'")

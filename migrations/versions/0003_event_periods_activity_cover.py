"""Store each status event's end (``until_on``) and cover the dashboard's activity reads.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

``until_on`` is the next event's date for the same pairing (ties: the later-recorded, higher
id, takes over), so the dashboard reads status periods without a window function. The
covering index replaces ``ix_activity_start_on``: the activity aggregates read it alone.
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COVER = ['start_on', 'pairing_id', 'type', 'mode', 'local_students', 'partner_students',
         'local_teachers', 'partner_teachers']


def upgrade():
    with op.batch_alter_table('pairing_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('until_on', sa.Date(), nullable=True))
    op.execute("""
        UPDATE pairing_event SET until_on = (
            SELECT nxt.effective_on FROM pairing_event AS nxt
            WHERE nxt.pairing_id = pairing_event.pairing_id
              AND (nxt.effective_on > pairing_event.effective_on
                   OR (nxt.effective_on = pairing_event.effective_on
                       AND nxt.id > pairing_event.id))
            ORDER BY nxt.effective_on, nxt.id
            LIMIT 1)
    """)
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_start_on'))
        batch_op.create_index('ix_activity_start_cover', COVER, unique=False)


def downgrade():
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_start_cover')
        batch_op.create_index(batch_op.f('ix_activity_start_on'), ['start_on'], unique=False)
    with op.batch_alter_table('pairing_event', schema=None) as batch_op:
        batch_op.drop_column('until_on')

"""worker heartbeats

Each running Celery worker records when it last said it is alive; /readyz fails when no worker
has done so within WORKER_HEARTBEAT_WINDOW, so a deployment with no worker is not "ready".

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:40:00

"""
from alembic import op
import sqlalchemy as sa

import ringly.db


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'worker_heartbeats',
        sa.Column('hostname', sa.String(length=255), nullable=False),
        sa.Column('beat_at', ringly.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('hostname', name=op.f('pk_worker_heartbeats')),
    )


def downgrade():
    op.drop_table('worker_heartbeats')

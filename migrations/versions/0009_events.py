"""events and their deliveries

Event endpoints (a URL, the event types it wants, its signing secret, the lease one worker holds
while it delivers to it), the events domains record in their own transactions, and one delivery
per event and endpoint with its attempts, last answer and next attempt.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:20:00

"""
from alembic import op
import sqlalchemy as sa

import ringly.db


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'event_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('created_at', ringly.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('deleted_at', ringly.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('lease_token', sa.String(length=32), nullable=True),
        sa.Column('leased_until', ringly.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_endpoints')),
    )
    op.create_table(
        'events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=40), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', ringly.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
        sa.UniqueConstraint('uid', name=op.f('uq_events_uid')),
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_type'), ['type'], unique=False)
    op.create_table(
        'event_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', ringly.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', ringly.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('response_body', sa.String(length=1024), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('delivered_at', ringly.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', ringly.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'cancelled')",
                           name=op.f('ck_event_deliveries_status')),
        sa.ForeignKeyConstraint(['endpoint_id'], ['event_endpoints.id'],
                                name=op.f('fk_event_deliveries_endpoint_id_event_endpoints'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                                name=op.f('fk_event_deliveries_event_id_events'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_deliveries')),
    )
    with op.batch_alter_table('event_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_event_deliveries_endpoint_status',
                              ['endpoint_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_deliveries_event_id'), ['event_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('event_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_deliveries_event_id'))
        batch_op.drop_index('ix_event_deliveries_endpoint_status')
    op.drop_table('event_deliveries')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_type'))
        batch_op.drop_index(batch_op.f('ix_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_events_client_id'))
    op.drop_table('events')
    op.drop_table('event_endpoints')

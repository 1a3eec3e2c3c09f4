"""client time zones from their numbers, and the verification call's purpose

`clients.timezone_source` says where a client's zone came from: `explicit` (asked for, never
changed by Ringly), `number` (its number's area code or rate center) or `default`
(DEFAULT_TIMEZONE). Existing zones are not changed here: a zone other than the old default
America/New_York, or one the provision request or a settings change named, was chosen, so it
is `explicit`; the rest are `default`, and `flask --app wsgi clients fix-timezones` lists (and
applies) the zones their numbers give.

`calls.purpose` tells a caller's call from provisioning's verification request. The
verification requests recorded so far (from Twilio's test number +15005550006, still
`ringing`) are marked as such and finished.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:20:00

"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_DEFAULT_ZONE = 'America/New_York'
VERIFICATION_CALLER = '+15005550006'

clients = sa.table('clients', sa.column('id', sa.Integer), sa.column('timezone', sa.String),
                   sa.column('timezone_source', sa.String))
jobs = sa.table('provisioning_jobs', sa.column('client_id', sa.Integer),
                sa.column('request', sa.JSON))
events = sa.table('audit_events', sa.column('kind', sa.String), sa.column('client_id', sa.Integer),
                  sa.column('data', sa.JSON))
calls = sa.table('calls', sa.column('from_number', sa.String), sa.column('status', sa.String),
                 sa.column('direction', sa.String), sa.column('purpose', sa.String),
                 sa.column('ended_at', sa.DateTime), sa.column('updated_at', sa.DateTime))


def _mapping(value):
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _explicitly_chosen(connection):
    """Clients whose zone someone chose: not the old default, or named in a provision request
    or a settings change."""
    chosen = set(connection.scalars(
        sa.select(clients.c.id).where(clients.c.timezone != OLD_DEFAULT_ZONE)))
    for client_id, request in connection.execute(
            sa.select(jobs.c.client_id, jobs.c.request).where(jobs.c.client_id.is_not(None))):
        if _mapping(request).get('timezone'):
            chosen.add(client_id)
    for client_id, data in connection.execute(
            sa.select(events.c.client_id, events.c.data)
            .where(events.c.kind == 'client.updated', events.c.client_id.is_not(None))):
        if 'timezone' in _mapping(_mapping(data).get('after')):
            chosen.add(client_id)
    return chosen


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone_source', sa.String(length=8),
                                      server_default='default', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_clients_timezone_source'),
            "timezone_source IN ('explicit', 'number', 'default')")
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=12), server_default='caller',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_calls_purpose'),
                                         "purpose IN ('caller', 'verification')")

    connection = op.get_bind()
    chosen = sorted(_explicitly_chosen(connection))
    for start in range(0, len(chosen), 500):
        connection.execute(clients.update().where(clients.c.id.in_(chosen[start:start + 500]))
                           .values(timezone_source='explicit'))
    connection.execute(
        calls.update()
        .where(calls.c.from_number == VERIFICATION_CALLER, calls.c.status == 'ringing',
               calls.c.direction == 'inbound')
        .values(purpose='verification', status='completed',
                ended_at=sa.func.coalesce(calls.c.ended_at, calls.c.updated_at)))


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_calls_purpose'), type_='check')
        batch_op.drop_column('purpose')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_clients_timezone_source'), type_='check')
        batch_op.drop_column('timezone_source')

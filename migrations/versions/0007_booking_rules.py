"""booking rules per client

Each client gets its booking rules (buffer, minimum notice, horizon, places per slot, closed
dates) with server defaults, so existing clients keep booking as before except that a slot
starting within the next hour is no longer offered; slot_minutes may be up to 480. Appointments
get a seat (1 for every existing one), and the index that makes double booking impossible
covers (client, start, seat): a slot holds as many appointments as its client's max_per_slot.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 15:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

HOLDING = sa.text("status <> 'cancelled'")
RULES = (  # name, default, lowest, highest
    ('buffer_minutes', 0, 0, 240),
    ('min_notice_minutes', 60, 0, 43200),
    ('horizon_days', 90, 1, 730),
    ('max_per_slot', 1, 1, 50),
)


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        for name, default, _low, _high in RULES:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default=str(default),
                                          nullable=False))
        batch_op.add_column(sa.Column('closed_dates', sa.JSON(), server_default='[]',
                                      nullable=False))
        batch_op.drop_constraint(batch_op.f('ck_clients_slot_minutes_range'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_clients_slot_minutes_range'),
                                         sa.text('slot_minutes BETWEEN 5 AND 480'))
        for name, _default, low, high in RULES:
            batch_op.create_check_constraint(batch_op.f(f'ck_clients_{name}_range'),
                                             sa.text(f'{name} BETWEEN {low} AND {high}'))

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seat', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_appointments_seat_range'),
                                         sa.text('seat BETWEEN 1 AND 50'))
        batch_op.drop_index('uq_appointments_client_slot', postgresql_where=HOLDING,
                            sqlite_where=HOLDING)
        batch_op.create_index('uq_appointments_client_slot_seat',
                              ['client_id', 'starts_at', 'seat'], unique=True,
                              postgresql_where=HOLDING, sqlite_where=HOLDING)


def downgrade():
    # Before this revision a start time held one appointment: refuse rather than cancel any.
    shared = op.get_bind().scalar(sa.text(
        "SELECT count(*) FROM appointments WHERE status <> 'cancelled' AND seat > 1"))
    if shared:
        raise RuntimeError(f"{shared} appointments share a start time with another (seat > 1); "
                           "cancel or move them before downgrading below 0007")
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('uq_appointments_client_slot_seat', postgresql_where=HOLDING,
                            sqlite_where=HOLDING)
        batch_op.create_index('uq_appointments_client_slot', ['client_id', 'starts_at'],
                              unique=True, postgresql_where=HOLDING, sqlite_where=HOLDING)
        batch_op.drop_constraint(batch_op.f('ck_appointments_seat_range'), type_='check')
        batch_op.drop_column('seat')

    # The older limit on slot length: longer slots become the longest it allowed.
    op.execute("UPDATE clients SET slot_minutes = 240 WHERE slot_minutes > 240")
    with op.batch_alter_table('clients', schema=None) as batch_op:
        for name, _default, _low, _high in reversed(RULES):
            batch_op.drop_constraint(batch_op.f(f'ck_clients_{name}_range'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_clients_slot_minutes_range'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_clients_slot_minutes_range'),
                                         sa.text('slot_minutes BETWEEN 5 AND 240'))
        batch_op.drop_column('closed_dates')
        for name, _default, _low, _high in reversed(RULES):
            batch_op.drop_column(name)

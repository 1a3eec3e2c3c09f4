"""numbers in the Messaging Service

phone_numbers.messaging_service_sid: the Messaging Service Ringly put the number in
(TWILIO_MESSAGING_SERVICE_SID), so a release takes it out of that service even after the
setting changed. Null for numbers in none (bought before the setting, or unable to text).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('phone_numbers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('messaging_service_sid', sa.String(length=34),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('phone_numbers', schema=None) as batch_op:
        batch_op.drop_column('messaging_service_sid')

"""message policy: refused texts and the outbox

A text the messaging policy refuses is kept with status "refused" and its reason; each
outbound text records the caller it was sent for, so daily limits can count per caller and per
destination; the outbox sweep finds texts still queued by status and age.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_messages_to_created', ['to_number', 'created_at']),
    ('ix_messages_caller_created', ['caller_number', 'created_at']),
    ('ix_messages_status_updated', ['status', 'updated_at']),
)


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refused_reason', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('caller_number', sa.String(length=255), nullable=True))
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        for name, _columns in reversed(INDEXES):
            batch_op.drop_index(name)
        batch_op.drop_column('caller_number')
        batch_op.drop_column('refused_reason')

"""caller addresses up to 255 characters

A call from a SIP trunk or an app has a From such as "sip:+14155551234@trunk.example.com",
longer than the 32 characters calls and messages kept, and its first webhook failed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 03:59:25.842754

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TABLES = ('calls', 'messages')
COLUMNS = ('from_number', 'to_number')


def _resize(old_length, new_length):
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in COLUMNS:
                batch_op.alter_column(column,
                                      existing_type=sa.String(length=old_length),
                                      type_=sa.String(length=new_length),
                                      existing_nullable=True)


def upgrade():
    _resize(32, 255)


def downgrade():
    # Narrowing again cuts longer addresses to 32 characters (they did not fit before).
    for table in TABLES:
        for column in COLUMNS:
            op.execute(sa.text(f"UPDATE {table} SET {column} = substr({column}, 1, 32) "
                               f"WHERE length({column}) > 32"))
    _resize(255, 32)

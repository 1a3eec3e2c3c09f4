"""client time zones from their numbers, and the verification call's purpose

(Filled in by the change that needs it; until then it changes nothing.)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:20:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

"""idempotency keys per api key

An Idempotency-Key was unique across the whole service, so two API keys that happened to
choose the same key shared one job (and one could read the other's). A job now records the
API key that asked for it, and the key is unique per API key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

PER_KEY_INDEX = 'ix_provisioning_jobs_idempotency_key_per_api_key'


def upgrade():
    with op.batch_alter_table('provisioning_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_provisioning_jobs_api_key_id_api_keys'),
                                    'api_keys', ['api_key_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(batch_op.f('uq_provisioning_jobs_idempotency_key'),
                                 type_='unique')
        batch_op.create_index(PER_KEY_INDEX, ['api_key_id', 'idempotency_key'], unique=True)


def downgrade():
    # Keys were unique service-wide before: where two API keys used the same one, only the
    # oldest job keeps it (the jobs stay; a freed key only means no replay for that job).
    op.execute(sa.text(
        "UPDATE provisioning_jobs SET idempotency_key = NULL "
        "WHERE idempotency_key IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM provisioning_jobs AS earlier "
        "WHERE earlier.idempotency_key = provisioning_jobs.idempotency_key "
        "AND (earlier.created_at < provisioning_jobs.created_at "
        "OR (earlier.created_at = provisioning_jobs.created_at "
        "AND earlier.id < provisioning_jobs.id)))"
    ))
    with op.batch_alter_table('provisioning_jobs', schema=None) as batch_op:
        batch_op.drop_index(PER_KEY_INDEX)
        batch_op.create_unique_constraint(batch_op.f('uq_provisioning_jobs_idempotency_key'),
                                          ['idempotency_key'])
        batch_op.drop_constraint(batch_op.f('fk_provisioning_jobs_api_key_id_api_keys'),
                                 type_='foreignkey')
        batch_op.drop_column('api_key_id')

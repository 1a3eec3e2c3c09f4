"""api key scopes, and who did each audited action

Every key could do everything: release any number, list the whole Twilio account, point a
client's calls anywhere. Keys now carry scopes (read, provision, admin). Keys that exist when
this runs get read and provision, what a new key gets by default: the admin operations
(release, webhook repair, the account's numbers, client settings, the audit log) must be
granted on purpose with `flask --app wsgi keys scopes NAME --scope admin ...`.

Audit events gain the client they concern and the actor (the API key, the CLI command, the
task) that caused them; events recorded before this revision say "unknown".

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=64),
                                      server_default='provision read', nullable=False))

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('actor', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_events_client_id'), ['client_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_api_key_id'), ['api_key_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_events_api_key_id_api_keys'),
                                    'api_keys', ['api_key_id'], ['id'], ondelete='SET NULL')
    op.execute(sa.text("UPDATE audit_events SET actor = 'unknown' WHERE actor IS NULL"))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('actor', existing_type=sa.String(length=128), nullable=False)


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_events_api_key_id_api_keys'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_events_api_key_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_client_id'))
        batch_op.drop_column('api_key_id')
        batch_op.drop_column('actor')
        batch_op.drop_column('client_id')

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('scopes')

"""admin users and their sessions

The operator's console signs admins in with a password (Werkzeug's scrypt hash); each signed-in
browser is a session row holding only the hash of its cookie's token. Audit events and
provisioning jobs name the admin who acted or asked.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:00:00

"""
from alembic import op
import sqlalchemy as sa

import ringly.db


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'admin_users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('created_at', ringly.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_sign_in_at', ringly.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('disabled_at', ringly.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_users')),
        sa.UniqueConstraint('email', name=op.f('uq_admin_users_email')),
    )
    op.create_table(
        'admin_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('admin_user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', ringly.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', ringly.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', ringly.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['admin_user_id'], ['admin_users.id'],
                                name=op.f('fk_admin_sessions_admin_user_id_admin_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_admin_sessions_token_hash')),
    )
    with op.batch_alter_table('admin_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_sessions_admin_user_id'), ['admin_user_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_admin_sessions_expires_at'), ['expires_at'],
                              unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admin_user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_events_admin_user_id'), ['admin_user_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_events_admin_user_id_admin_users'),
                                    'admin_users', ['admin_user_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('provisioning_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admin_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_provisioning_jobs_admin_user_id_admin_users'),
                                    'admin_users', ['admin_user_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('provisioning_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_provisioning_jobs_admin_user_id_admin_users'),
                                 type_='foreignkey')
        batch_op.drop_column('admin_user_id')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_events_admin_user_id_admin_users'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_events_admin_user_id'))
        batch_op.drop_column('admin_user_id')
    with op.batch_alter_table('admin_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_admin_sessions_admin_user_id'))
    op.drop_table('admin_sessions')
    op.drop_table('admin_users')

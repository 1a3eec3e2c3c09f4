"""audio clips

Rendered ElevenLabs audio in the database (AUDIO_STORE=database, the default on PostgreSQL), so
any web host serves a clip any worker rendered; last_played_at drives the cache's eviction.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import ringly.db


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audio_clips',
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('bytes', sa.LargeBinary(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('created_at', ringly.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_played_at', ringly.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('hash', name=op.f('pk_audio_clips')),
    )
    with op.batch_alter_table('audio_clips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audio_clips_created_at'), ['created_at'],
                              unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # MP3 does not compress: store it out of line without trying to (TOAST's EXTERNAL).
        op.execute('ALTER TABLE audio_clips ALTER COLUMN bytes SET STORAGE EXTERNAL')


def downgrade():
    with op.batch_alter_table('audio_clips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audio_clips_created_at'))
    op.drop_table('audio_clips')

"""ANS clock: sla_status, pause, breach and the scheduler's reminders

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_status', sa.String(length=10), server_default='no_prazo', nullable=False))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('breached_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('waiting_reminded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('evaluation_reminded_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_sla_status'), ['sla_status'], unique=False)
    # Existing tickets: finished ones have no clock; a ticket already waiting is paused since its last change.
    op.execute("UPDATE tickets SET sla_status = 'encerrado' WHERE status IN ('resolvido', 'fechado', 'cancelado')")
    op.execute("UPDATE tickets SET sla_status = 'pausado', paused_at = updated_at WHERE status = 'aguardando_usuario'")


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_sla_status'))
        batch_op.drop_column('evaluation_reminded_at')
        batch_op.drop_column('waiting_reminded_at')
        batch_op.drop_column('breached_at')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('sla_status')

"""Outbox rows name the dispatcher that claimed them, and keep the reopened and held-back states.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# What the dispatcher wrote into last_error when it opened a deleted chat anew.
REOPENED = "404: the chat was re-created"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_back", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("claim_start", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("chat_reopened", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Held-back claims were taken off `attempts` until now, so every row starts at none.
    # The dispatcher read the reopened state from its error text, as this does.
    op.execute(
        sa.text("UPDATE outbox SET chat_reopened = true WHERE last_error LIKE '%re-created%'")
    )


def downgrade() -> None:
    # The older schema counts only tries in `attempts`, and reads the reopened state from the text.
    op.execute(sa.text("UPDATE outbox SET attempts = attempts - held_back"))
    op.execute(
        sa.text(
            f"UPDATE outbox SET last_error = '{REOPENED}'"
            " WHERE chat_reopened AND status IN ('pending', 'sending')"
        )
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("chat_reopened")
        batch_op.drop_column("claim_start")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("held_back")

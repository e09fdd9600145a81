"""Outbox rows may hold a message's draft, rendered when it is sent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft", sa.JSON(), nullable=True))
        batch_op.alter_column("activity", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    # A row still waiting with only its draft cannot be kept by the older schema.
    # An activity that reads JSON null is no rendered message either.
    op.execute("DELETE FROM outbox WHERE activity IS NULL OR CAST(activity AS TEXT) = 'null'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("activity", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("draft")

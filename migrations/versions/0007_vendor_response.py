"""A ticket escalated to the vendor has a respond-by time, and records the vendor's first answer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vendor_response_due", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("vendor_responded_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("vendor_responded_at")
        batch_op.drop_column("vendor_response_due")

"""Tickets are found newest change first (the compose box's search): an index on updated_at.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:15:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_updated_at", table_name="tickets")

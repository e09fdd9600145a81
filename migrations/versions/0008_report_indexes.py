"""Indexes on when tickets were created, resolved and closed, which the reports of a period read.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 05:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ("created_at", "resolved_at", "closed_at")


def upgrade() -> None:
    for column in COLUMNS:
        op.create_index(f"ix_tickets_{column}", "tickets", [column])


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_tickets_{column}", table_name="tickets")

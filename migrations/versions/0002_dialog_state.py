"""Dialog state, and who opened a ticket for a colleague.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 05:34:32.107455
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("e_tag", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_state")),
    )
    with op.batch_alter_table("bot_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_state_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_opened_by_id"), ["opened_by_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_opened_by_id_people"),
            "people",
            ["opened_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tickets_opened_by_id_people"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_tickets_opened_by_id"))
        batch_op.drop_column("opened_by_id")

    with op.batch_alter_table("bot_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_state_updated_at"))

    op.drop_table("bot_state")

"""An outbox row may be for a person esmbot cannot write to yet: who, and at what address.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 04:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("conversation_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=320), nullable=True))
        batch_op.create_index("ix_outbox_person_id", ["person_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_outbox_person_id_people", "people", ["person_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    # Rows that never had a conversation cannot exist in the older schema.
    op.execute(sa.text("DELETE FROM outbox WHERE conversation_id IS NULL"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_person_id_people", type_="foreignkey")
        batch_op.drop_index("ix_outbox_person_id")
        batch_op.drop_column("address")
        batch_op.drop_column("person_id")
        batch_op.alter_column("conversation_id", existing_type=sa.Integer(), nullable=False)

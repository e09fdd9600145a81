"""Problems: the links from a problem to its incidents and to the people it affects.

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-06 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "problem_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "(ticket_id IS NULL) <> (person_id IS NULL)",
            name=op.f("ck_problem_links_ticket_or_person"),
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"],
            ["people.id"],
            name=op.f("fk_problem_links_linked_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_problem_links_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["tickets.id"],
            name=op.f("fk_problem_links_problem_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_problem_links_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_links")),
        sa.UniqueConstraint(
            "problem_id", "person_id", name=op.f("uq_problem_links_problem_id_person_id")
        ),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_problem_links_ticket_id")),
    )
    with op.batch_alter_table("problem_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_problem_links_problem_id"), ["problem_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("problem_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_links_problem_id"))
    op.drop_table("problem_links")

"""Problems: links to their incidents and affected people, spike alerts, tickets by creation time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
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
    op.create_table(
        "problem_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=256), nullable=False),
        sa.Column("module", sa.String(length=128), nullable=True),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("usual", sa.Float(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_ticket_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["people.id"],
            name=op.f("fk_problem_alerts_decided_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["tickets.id"],
            name=op.f("fk_problem_alerts_problem_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_alerts")),
    )
    with op.batch_alter_table("problem_alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_problem_alerts_signature_raised_at", ["signature", "raised_at"], unique=False
        )
    op.create_table(
        "problem_alert_tickets",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["problem_alerts.id"],
            name=op.f("fk_problem_alert_tickets_alert_id_problem_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_problem_alert_tickets_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "ticket_id", name=op.f("pk_problem_alert_tickets")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_problem_alert_tickets_ticket_id")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        # ix_tickets_created_at, which the detector's counts use too, is 0008's.
        batch_op.create_index("ix_tickets_type_status", ["type", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_type_status")
    op.drop_table("problem_alert_tickets")
    with op.batch_alter_table("problem_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_problem_alerts_signature_raised_at")
    op.drop_table("problem_alerts")
    with op.batch_alter_table("problem_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_links_problem_id"))
    op.drop_table("problem_links")

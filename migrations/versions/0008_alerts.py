"""Alerts and their evaluation log.

`alerts` holds what to watch; `alert_evaluations` one row per alert and evaluated interval
(unique on the interval's start: several workers evaluate it once), with the data of the
`alert.triggered` events it emitted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("group_by", sa.JSON(), nullable=False),
        sa.Column("interval", sa.String(8), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("condition", sa.JSON(), nullable=False),
        sa.Column("min_n", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("last_evaluated_start", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_table(
        "alert_evaluations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("interval_start", TIME, nullable=False),
        sa.Column("interval_end", TIME, nullable=False),
        sa.Column("baseline_start", TIME, nullable=False),
        sa.Column("baseline_end", TIME, nullable=False),
        sa.Column("evaluated_at", TIME, nullable=False),
        sa.Column("groups_evaluated", sa.Integer(), nullable=False),
        sa.Column("triggered", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_evaluations"),
        sa.UniqueConstraint(
            "alert_id", "interval_start", name="uq_alert_evaluations_alert_id_interval_start"
        ),
    )
    op.create_index(
        "ix_alert_evaluations_alert_id_evaluated_at",
        "alert_evaluations",
        ["alert_id", "evaluated_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_alert_evaluations_alert_id_evaluated_at", "alert_evaluations")
    op.drop_table("alert_evaluations")
    op.drop_table("alerts")

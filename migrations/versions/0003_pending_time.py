"""Pending answers carry their time, so the folder can take them in time order.

The grains also changed (fewer quarter-hour and hour levels): the rollups are rebuilt by
queueing every stored answer again, which the servers (or `nps-service rollup`) fold.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METRICS = ("overall", "logistics", "product", "service", "app")
CLASSES = ("promoters", "passives", "detractors")
COUNT_COLUMNS = [f"{metric}_{k}" for metric in METRICS for k in CLASSES]


def upgrade() -> None:
    op.add_column("pending_rollup", sa.Column("submitted_at", sa.DateTime(timezone=True)))
    op.execute("DELETE FROM rollups")
    op.execute("DELETE FROM pending_rollup")
    op.execute(
        "INSERT INTO pending_rollup (id, submitted_at) SELECT id, submitted_at FROM responses"
    )
    with op.batch_alter_table("pending_rollup") as batch:
        batch.alter_column("submitted_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_index("ix_pending_rollup_submitted_at_id", "pending_rollup", ["submitted_at", "id"])
    op.drop_index("ix_rollups_grain_level_category_slot_start", table_name="rollups")
    with op.batch_alter_table("rollups") as batch:
        for name in COUNT_COLUMNS:
            batch.alter_column(name, existing_type=sa.BigInteger(), type_=sa.Integer())
    op.create_index(
        "ix_rollups_merchants_by_category",
        "rollups",
        ["category", "level", "slot_start"],
        postgresql_include=[
            "merchant_id",
            "channel",
            "region",
            "platform",
            "touchpoint",
            *COUNT_COLUMNS,
        ],
        postgresql_where=sa.text("grain = 6"),
        sqlite_where=sa.text("grain = 6"),
    )


def downgrade() -> None:
    op.drop_index("ix_rollups_merchants_by_category", table_name="rollups")
    with op.batch_alter_table("rollups") as batch:
        for name in COUNT_COLUMNS:
            batch.alter_column(name, existing_type=sa.Integer(), type_=sa.BigInteger())
    op.create_index(
        "ix_rollups_grain_level_category_slot_start",
        "rollups",
        ["grain", "level", "category", "slot_start"],
    )
    # Rollups of 0003's grains are a subset of 0002's levels: rebuild them all again.
    op.execute("DELETE FROM rollups")
    op.execute("DELETE FROM pending_rollup")
    op.drop_index("ix_pending_rollup_submitted_at_id", table_name="pending_rollup")
    with op.batch_alter_table("pending_rollup") as batch:
        batch.drop_column("submitted_at")
    op.execute("INSERT INTO pending_rollup (id) SELECT id FROM responses")

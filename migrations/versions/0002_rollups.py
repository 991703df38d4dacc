"""Exact rollups and the pending tail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS = ("merchant_id", "category", "channel", "region", "platform", "touchpoint")
METRICS = ("overall", "logistics", "product", "service", "app")
CLASSES = ("promoters", "passives", "detractors")


def _sum_columns() -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = []
    for metric in METRICS:
        columns += [sa.Column(f"{metric}_{k}", sa.BigInteger(), nullable=False) for k in CLASSES]
        columns += [sa.Column(f"{metric}_w_{k}", sa.Double(), nullable=False) for k in CLASSES]
        columns.append(sa.Column(f"{metric}_w_squares", sa.Double(), nullable=False))
    return columns


def upgrade() -> None:
    op.create_table(
        "pending_rollup",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_rollup")),
    )
    op.create_table(
        "rollups",
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        *(sa.Column(f, sa.String(length=64), server_default="", nullable=False) for f in FIELDS),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        *_sum_columns(),
        sa.PrimaryKeyConstraint("grain", "level", *FIELDS, "slot_start", name=op.f("pk_rollups")),
    )
    op.create_index(
        "ix_rollups_grain_level_slot_start", "rollups", ["grain", "level", "slot_start"]
    )
    op.create_index(
        "ix_rollups_grain_level_category_slot_start",
        "rollups",
        ["grain", "level", "category", "slot_start"],
    )
    # Answers stored before rollups existed are folded like any new answer.
    op.execute("INSERT INTO pending_rollup (id) SELECT id FROM responses")


def downgrade() -> None:
    op.drop_index("ix_rollups_grain_level_category_slot_start", table_name="rollups")
    op.drop_index("ix_rollups_grain_level_slot_start", table_name="rollups")
    op.drop_table("rollups")
    op.drop_table("pending_rollup")

"""Rollups keep complete-case moment sums, so key drivers are served from rollups.

The new columns have no default on purpose: a server of the previous version that still
folds during a rolling upgrade fails (and leaves its answers pending for the new version)
instead of writing rollup rows whose moments are silently zero. Existing rollups are
rebuilt by queueing every stored answer again, which the servers (or `nps-service
rollup`) fold; scores stay exact meanwhile, answered from the pending tail.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VARIABLES = ("overall", "logistics", "product", "service", "app")
PAIRS = [(a, b) for i, a in enumerate(VARIABLES) for b in VARIABLES[i:]]
MERCHANT_INDEX = "ix_rollups_merchants_by_category"
FIELDS = ("merchant_id", "channel", "region", "platform", "touchpoint")
CLASSES = ("promoters", "passives", "detractors")


def _columns() -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = [sa.Column("cc_n", sa.Integer(), nullable=False)]
    columns += [sa.Column(f"cc_sum_{v}", sa.Integer(), nullable=False) for v in VARIABLES]
    columns += [sa.Column(f"cc_sum_{a}_{b}", sa.Integer(), nullable=False) for a, b in PAIRS]
    columns.append(sa.Column("cc_w", sa.Double(), nullable=False))
    columns += [sa.Column(f"cc_w_sum_{v}", sa.Double(), nullable=False) for v in VARIABLES]
    columns += [sa.Column(f"cc_w_sum_{a}_{b}", sa.Double(), nullable=False) for a, b in PAIRS]
    columns.append(sa.Column("cc_w_squares", sa.Double(), nullable=False))
    return columns


def upgrade() -> None:
    op.execute("DELETE FROM rollups")
    op.execute("DELETE FROM pending_rollup")
    # SQLite cannot add a NOT NULL column without a default: recreate the (now empty)
    # table. Its partial index is dropped and created again around that, as reflection
    # would not carry the index's WHERE clause over.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index(MERCHANT_INDEX, table_name="rollups")
    with op.batch_alter_table("rollups", recreate="always" if sqlite else "never") as batch:
        for column in _columns():
            batch.add_column(column)
    _create_merchant_index()
    op.execute(
        "INSERT INTO pending_rollup (id, submitted_at) SELECT id, submitted_at FROM responses"
    )


def downgrade() -> None:
    # The class sums stay exact without the moments: nothing to rebuild.
    op.drop_index(MERCHANT_INDEX, table_name="rollups")
    with op.batch_alter_table("rollups") as batch:
        for column in _columns():
            batch.drop_column(column.name)
    _create_merchant_index()


def _create_merchant_index() -> None:
    """As migration 0003 made it: merchants of a category, class counts included."""
    op.create_index(
        MERCHANT_INDEX,
        "rollups",
        ["category", "level", "slot_start"],
        postgresql_include=[*FIELDS, *(f"{m}_{k}" for m in VARIABLES for k in CLASSES)],
        postgresql_where=sa.text("grain = 6"),
        sqlite_where=sa.text("grain = 6"),
    )

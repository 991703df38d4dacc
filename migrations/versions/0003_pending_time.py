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


def downgrade() -> None:
    # Rollups of 0003's grains are a subset of 0002's levels: rebuild them all again.
    op.execute("DELETE FROM rollups")
    op.execute("DELETE FROM pending_rollup")
    op.drop_index("ix_pending_rollup_submitted_at_id", table_name="pending_rollup")
    with op.batch_alter_table("pending_rollup") as batch:
        batch.drop_column("submitted_at")
    op.execute("INSERT INTO pending_rollup (id) SELECT id FROM responses")

"""Privacy: erasure and retention, the audit log, merchant-scoped keys.

- `responses.respondent_id` and `displays.respondent_id` may be NULL: retention removes
  them from old rows (scores are unchanged: the rollups keep no identifiers).
- `webhook_deliveries.response_id`: which answer a delivery carries, so erasing a person
  drops their deliveries.
- `audit_log`: erasures and retention runs, without the person's data.
- `api_keys.merchants`: a read key limited to these merchants (null: every merchant).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.alter_column("respondent_id", existing_type=sa.String(128), nullable=True)
    with op.batch_alter_table("displays") as batch:
        batch.alter_column("respondent_id", existing_type=sa.String(128), nullable=True)
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("response_id", sa.Uuid(), nullable=True))
    op.create_index("ix_webhook_deliveries_response_id", "webhook_deliveries", ["response_id"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("merchants", sa.JSON(), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("merchants")
    op.drop_index("ix_webhook_deliveries_response_id", "webhook_deliveries")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("response_id")
    op.execute("DELETE FROM displays WHERE respondent_id IS NULL")
    op.execute("UPDATE responses SET respondent_id = '' WHERE respondent_id IS NULL")
    with op.batch_alter_table("displays") as batch:
        batch.alter_column("respondent_id", existing_type=sa.String(128), nullable=False)
    with op.batch_alter_table("responses") as batch:
        batch.alter_column("respondent_id", existing_type=sa.String(128), nullable=False)

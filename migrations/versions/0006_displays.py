"""Displays, declines and contact rules; display counts in rollups of their own.

`displays` holds each prompt shown (declined_at and response_id fill in later);
`pending_display_rollup` queues each change of the counts (shown, answered, declined) in
the transaction that made it, and the folder adds them into `display_rollups`, keyed like
`rollups`. `responses.display_id` names the display an answer answers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAGS = ("merchant_id", "category", "channel", "region", "platform", "touchpoint")
ROLLUP_FIELDS = TAGS
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("display_id", sa.Uuid(), nullable=True))
    op.create_table(
        "displays",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("respondent_id", sa.String(128), nullable=False),
        sa.Column("touchpoint", sa.String(64), nullable=True),
        *(
            sa.Column(name, sa.String(64), nullable=True)
            for name in ("merchant_id", "category", "channel", "region", "platform", "order_id")
        ),
        sa.Column("shown_at", TIME, nullable=False),
        sa.Column("shown_at_given", sa.Boolean(), nullable=False),
        sa.Column("declined_at", TIME, nullable=True),
        sa.Column("response_id", sa.Uuid(), nullable=True),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_displays"),
    )
    op.create_index("ix_displays_respondent_id_shown_at", "displays", ["respondent_id", "shown_at"])
    op.create_index("ix_displays_shown_at", "displays", ["shown_at"])
    op.create_index("ix_displays_response_id", "displays", ["response_id"], unique=True)
    op.create_table(
        "pending_display_rollup",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("shown_at", TIME, nullable=False),
        *(sa.Column(name, sa.String(64), nullable=True) for name in TAGS),
        sa.Column("shown", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("answered", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("declined", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("queued_at", TIME, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pending_display_rollup"),
    )
    op.create_index("ix_pending_display_rollup_shown_at", "pending_display_rollup", ["shown_at"])
    op.create_table(
        "display_rollups",
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        *(
            sa.Column(name, sa.String(64), server_default="", nullable=False)
            for name in ROLLUP_FIELDS
        ),
        sa.Column("slot_start", TIME, nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("shown", "answered", "declined")
        ),
        sa.PrimaryKeyConstraint(
            "grain", "level", *ROLLUP_FIELDS, "slot_start", name="pk_display_rollups"
        ),
    )
    op.create_table(
        "contact_rules",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_rules"),
    )


def downgrade() -> None:
    op.drop_table("contact_rules")
    op.drop_table("display_rollups")
    op.drop_index("ix_pending_display_rollup_shown_at", "pending_display_rollup")
    op.drop_table("pending_display_rollup")
    op.drop_index("ix_displays_response_id", "displays")
    op.drop_index("ix_displays_shown_at", "displays")
    op.drop_index("ix_displays_respondent_id_shown_at", "displays")
    op.drop_table("displays")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("display_id")

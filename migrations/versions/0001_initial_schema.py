"""Initial schema: responses and api_keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Migrations are frozen history: they use plain column types, not the app's TypeDecorators.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("respondent_id", sa.String(length=128), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("logistics", sa.SmallInteger(), nullable=True),
        sa.Column("product", sa.SmallInteger(), nullable=True),
        sa.Column("service", sa.SmallInteger(), nullable=True),
        sa.Column("app", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("merchant_id", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("platform", sa.String(length=64), nullable=True),
        sa.Column("touchpoint", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("submitted_at", TIMESTAMP, nullable=False),
        sa.Column("submitted_at_given", sa.Boolean(), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("app BETWEEN 0 AND 10", name=op.f("ck_responses_app_range")),
        sa.CheckConstraint("logistics BETWEEN 0 AND 10", name=op.f("ck_responses_logistics_range")),
        sa.CheckConstraint("product BETWEEN 0 AND 10", name=op.f("ck_responses_product_range")),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name=op.f("ck_responses_score_range")),
        sa.CheckConstraint("service BETWEEN 0 AND 10", name=op.f("ck_responses_service_range")),
        sa.CheckConstraint("weight > 0", name=op.f("ck_responses_weight_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
    )
    op.create_index("ix_responses_submitted_at_id", "responses", ["submitted_at", "id"])
    op.create_index(
        "ix_responses_merchant_id_submitted_at", "responses", ["merchant_id", "submitted_at"]
    )
    op.create_index("ix_responses_category_submitted_at", "responses", ["category", "submitted_at"])
    op.create_index(
        "ix_responses_respondent_id_submitted_at", "responses", ["respondent_id", "submitted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_responses_respondent_id_submitted_at", table_name="responses")
    op.drop_index("ix_responses_category_submitted_at", table_name="responses")
    op.drop_index("ix_responses_merchant_id_submitted_at", table_name="responses")
    op.drop_index("ix_responses_submitted_at_id", table_name="responses")
    op.drop_table("responses")
    op.drop_table("api_keys")

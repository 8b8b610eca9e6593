"""Role tiers and monthly budgets: each role's limits, what a server spent per month, each job's price and roles.

Revision ID: 0010
Revises: 0007

Exempt roles stay as they are (`guild_exempt_roles`): they keep skipping the per-member limits. Jobs admitted
before this revision have no price: they add nothing to a budget (spending is counted from the upgrade on).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `jobs.price` and `jobs.role_ids`, create `guild_role_tiers` and `guild_spend`."""
    op.add_column("jobs", sa.Column("price", sa.Float))  # plain ADD COLUMNs: no table rebuild
    op.add_column("jobs", sa.Column("role_ids", sa.Text))
    op.create_table(
        "guild_role_tiers",
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column("role_id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("daily_images", sa.Integer),
        sa.Column("monthly_images", sa.Integer),
        sa.Column("models", sa.Text),
        sa.Column("max_resolution", sa.Text),
        sa.Column("max_set_size", sa.Integer),
    )
    op.create_table(
        "guild_spend",
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("spent", sa.Float, nullable=False, server_default=sa.text("0")),
        sa.Column("notified", sa.Integer, nullable=False, server_default=sa.text("0")),
        sqlite_with_rowid=False,
    )

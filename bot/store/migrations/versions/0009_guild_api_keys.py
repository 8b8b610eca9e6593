"""Servers' own image API keys, stored encrypted.

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `guild_api_keys`."""
    op.create_table(
        "guild_api_keys",
        sa.Column("guild_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("hint", sa.Text, nullable=False),
        sa.Column("host", sa.Text),
        sa.Column("set_by", sa.BigInteger, nullable=False),
        sa.Column("set_at", sa.Float, nullable=False),
    )

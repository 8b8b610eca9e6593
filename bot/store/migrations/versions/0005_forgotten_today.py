"""Today's images of a member who asked to be forgotten still count against their daily limit.

Revision ID: 0005
Revises: 0003

(There was never a schema version 4; the numbers follow the former .sql files.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `forgotten_today`."""
    op.create_table(
        "forgotten_today",
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("images", sa.Integer, nullable=False),
    )

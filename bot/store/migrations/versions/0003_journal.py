"""Job journal (what restart recovery needs) and the reference images of each job.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `job_journal` and `job_references`."""
    job = sa.ForeignKey("jobs.id", ondelete="CASCADE")
    op.create_table(
        "job_journal",
        sa.Column("job_id", sa.BigInteger, job, primary_key=True, autoincrement=False),
        sa.Column("interaction_id", sa.BigInteger),
        sa.Column("interaction_token", sa.Text),
        sa.Column("token_expires_at", sa.Float),
        sa.Column("status_message_id", sa.BigInteger),
        sa.Column("upload_limit", sa.Integer),
        sa.Column("resumes_job_id", sa.BigInteger),
        sa.Column("recovered_at", sa.Float),
        sa.Column("retried_by", sa.BigInteger),
    )
    op.create_table(
        "job_references",
        sa.Column("job_id", sa.BigInteger, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("mime", sa.Text, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )

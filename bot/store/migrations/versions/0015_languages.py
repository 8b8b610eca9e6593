"""Languages (issue 13): the language a job's public messages are written in, kept from its admission.

Revision ID: 0015
Revises: 0014

A server's own language is one more `guild_settings` key (`language`), which needs no schema change. Jobs
admitted before this revision have no language and post in English, as they did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `jobs.language` (a plain ADD COLUMN: no table rebuild)."""
    op.add_column("jobs", sa.Column("language", sa.Text))

"""Usage rollups, per-server settings, the admin audit log and leaderboard opt-outs.

Revision ID: 0002
Revises: 0001

`usage_daily` (server, UTC day, member) and `usage_total` (server, member) sum finished jobs; the store
adds a job to them in the transaction that finishes it. Jobs finished before this revision are backfilled.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _counts() -> list[sa.Column[int]]:
    zero = sa.text("0")
    return [
        sa.Column("images", sa.Integer, nullable=False, server_default=zero),
        sa.Column("requests", sa.Integer, nullable=False, server_default=zero),
        sa.Column("failed", sa.Integer, nullable=False, server_default=zero),
        sa.Column("blocked", sa.Integer, nullable=False, server_default=zero),
        sa.Column("tokens", sa.BigInteger, nullable=False, server_default=zero),
    ]


def _pair(name: str, column: str, kind: type[sa.BigInteger | sa.Text]) -> None:
    op.create_table(
        name,
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column(column, kind, primary_key=True),
    )


def _backfill() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    day = "CAST(FLOOR(created_at / 86400) AS INTEGER)" if postgres else "CAST(created_at / 86400 AS INTEGER)"
    op.execute(
        "INSERT INTO usage_daily (guild_id, day, user_id, images, requests, failed, blocked, tokens)"
        f" SELECT COALESCE(guild_id, 0), {day}, user_id, SUM(images_delivered), COUNT(*),"
        " SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'blocked' THEN 1 ELSE 0 END),"
        f" SUM(output_tokens) FROM jobs WHERE finished_at IS NOT NULL GROUP BY COALESCE(guild_id, 0), {day}, user_id"
    )
    op.execute(
        "INSERT INTO usage_total (guild_id, user_id, images, requests, failed, blocked, tokens)"
        " SELECT guild_id, user_id, SUM(images), SUM(requests), SUM(failed), SUM(blocked), SUM(tokens)"
        " FROM usage_daily GROUP BY guild_id, user_id"
    )


def upgrade() -> None:
    """Create the usage and server-settings tables; backfill the rollups."""
    op.create_table(
        "usage_daily",
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        *_counts(),
        sqlite_with_rowid=False,
    )
    op.create_index("usage_daily_user", "usage_daily", ["guild_id", "user_id", "day"])
    op.create_table(
        "usage_total",
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        *_counts(),
        sqlite_with_rowid=False,
    )
    _backfill()
    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    _pair("guild_exempt_roles", "role_id", sa.BigInteger)
    _pair("guild_channels", "channel_id", sa.BigInteger)
    _pair("guild_blocked_words", "word", sa.Text)
    op.create_table(
        "admin_audit",
        sa.Column("id", AutoId, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("admin_audit_guild", "admin_audit", ["guild_id", "id"])
    op.create_table(
        "leaderboard_optout",
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )

"""The one schema of the bot's database (SQLite and PostgreSQL); the migrations in `migrations/` build it.

Discord ids are 64-bit (BIGINT); times are epoch seconds (double precision); guild_id 0 means "no server"
(DMs) and user_id 0 a member who asked to be forgotten.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# An auto-numbered key: SQLite's `INTEGER PRIMARY KEY AUTOINCREMENT`, PostgreSQL's BIGSERIAL.
AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Id = sa.BigInteger
Time = sa.Float


def _zero() -> sa.TextClause:
    return sa.text("0")


# Partial indexes: their condition is given to the SQLite dialect in the table below and to PostgreSQL's by
# `for_postgresql()`, so that a bot on SQLite never loads the PostgreSQL dialect (36 ms of imports by `-X importtime`).
PARTIAL = {"jobs_timing": "status = 'completed'", "job_journal_tokens": "interaction_token IS NOT NULL"}


def for_postgresql() -> None:
    """Complete the schema for PostgreSQL (its partial indexes' conditions); idempotent. The store calls it when it
    opens a PostgreSQL database, before any SQL."""
    for table in metadata.tables.values():
        for index in table.indexes:
            if index.name in PARTIAL and "postgresql_where" not in index.dialect_kwargs:
                index.dialect_kwargs["postgresql_where"] = sa.text(PARTIAL[str(index.name)])


jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", AutoId, primary_key=True, autoincrement=True),
    sa.Column("guild_id", Id),
    sa.Column("channel_id", Id),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("kind", sa.Text, nullable=False, server_default=sa.text("'imagine'")),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("params", sa.Text, nullable=False, server_default=sa.text("'{}'")),
    sa.Column("images_requested", sa.Integer, nullable=False),
    sa.Column("images_delivered", sa.Integer, nullable=False, server_default=_zero()),
    sa.Column("images_failed", sa.Integer, nullable=False, server_default=_zero()),
    sa.Column("output_tokens", sa.Integer, nullable=False, server_default=_zero()),
    # What the API billed (migration 0008): `usage.generated_images` when it said so, else the delivered images;
    # cost = billed images x the job's model's price when the job finished.
    sa.Column("images_billed", sa.Integer, nullable=False, server_default=_zero()),
    sa.Column("cost", sa.Float, nullable=False, server_default=_zero()),
    sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'queued'")),
    sa.Column("error_code", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("started_at", Time),
    sa.Column("finished_at", Time),
    # The durable queue (migration 0007): pending (admitted, reservation held) -> queued -> running (leased).
    sa.Column("queued_at", Time),
    sa.Column("reserved_until", Time),  # a pending row that was never queued stops counting after this
    sa.Column("member_cap", sa.Integer),  # how many jobs this member may run at once (the server's limit)
    sa.Column("worker_id", sa.Text),  # the worker holding the lease of a running job
    sa.Column("lease_expires_at", Time),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=_zero()),  # claims, takeovers included
    # What the API was asked for (migration 0011), for the time estimates of the status line.
    sa.Column("model", sa.Text),
    sa.Column("size", sa.Text),
    # Role tiers and budgets (migration 0010): the price of one image of this job when it was admitted (its
    # cost counts against the server's monthly budget) and the member's role ids then (a takeover's recheck).
    sa.Column("price", sa.Float),
    sa.Column("role_ids", sa.Text),  # JSON list
    # Languages (migration 0015): the server's language when the job was admitted; its public posts use it.
    sa.Column("language", sa.Text),
    # Admin statistics (migration 0014): every column they read, so one server's last 30 days are an index range.
    sa.Index(
        "jobs_guild_stats",
        "guild_id",
        "created_at",
        "channel_id",
        "status",
        "error_code",
        "images_delivered",
        "finished_at",
    ),
    sa.Index("jobs_user_created", "guild_id", "user_id", "created_at"),
    sa.Index("jobs_status", "status"),
    sa.Index("jobs_queue", "status", "id"),  # claims and queue positions
    sa.Index("jobs_user", "user_id"),  # forget-me
    sa.Index("jobs_finished", "finished_at"),  # pruning by age of finished jobs
    sa.Index(  # the newest completed jobs of one model and size: the status line's time estimate
        "jobs_timing",
        "model",
        "size",
        "finished_at",
        sqlite_where=sa.text(PARTIAL["jobs_timing"]),
    ),
    sqlite_autoincrement=True,
)

job_images = sa.Table(
    "job_images",
    metadata,
    sa.Column("job_id", Id, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("message_id", Id),
    sa.Column("channel_id", Id),
    sa.Column("url", sa.Text),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("bytes", sa.Integer),
    sa.Column("delivered_at", Time, nullable=False),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def _counts() -> list[sa.Column[int]]:
    return [
        sa.Column("images", sa.Integer, nullable=False, server_default=_zero()),
        sa.Column("requests", sa.Integer, nullable=False, server_default=_zero()),
        sa.Column("failed", sa.Integer, nullable=False, server_default=_zero()),
        sa.Column("blocked", sa.Integer, nullable=False, server_default=_zero()),
        sa.Column("tokens", sa.BigInteger, nullable=False, server_default=_zero()),
        sa.Column("cost", sa.Float, nullable=False, server_default=_zero()),  # migration 0008
    ]


# Rollups of finished jobs, kept by the store in the transaction that finishes a job (see UsageStore).
usage_daily = sa.Table(
    "usage_daily",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True),  # UTC day number: floor(jobs.created_at / 86400)
    sa.Column("user_id", Id, primary_key=True),
    *_counts(),
    sa.Index("usage_daily_user", "guild_id", "user_id", "day"),
    sa.Index("usage_daily_by_user", "user_id"),  # forget-me
    sqlite_with_rowid=False,
)

usage_total = sa.Table(
    "usage_total",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),
    sa.Column("user_id", Id, primary_key=True),
    *_counts(),
    sa.Index("usage_total_by_user", "user_id"),  # forget-me
    sqlite_with_rowid=False,
)

guild_settings = sa.Table(
    "guild_settings",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),  # JSON
)

guild_exempt_roles = sa.Table(
    "guild_exempt_roles",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),
    sa.Column("role_id", Id, primary_key=True),
)

# A role's tier: its own limits; NULL = the server's default for that limit, 0 = no limit (images).
guild_role_tiers = sa.Table(
    "guild_role_tiers",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),
    sa.Column("role_id", Id, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),  # a preset's name, or "Custom"
    sa.Column("daily_images", sa.Integer),
    sa.Column("monthly_images", sa.Integer),
    sa.Column("models", sa.Text),  # JSON list of model ids; [] = every model
    sa.Column("max_resolution", sa.Text),  # 1K / 2K / 4K
    sa.Column("max_set_size", sa.Integer),
)

# What a server spent per UTC month (the cost of delivered images, kept with the rollups) and the highest
# budget notice (80, 100) its mod-log was given that month.
guild_spend = sa.Table(
    "guild_spend",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),
    sa.Column("month", sa.Integer, primary_key=True),  # UTC day number of the month's 1st
    sa.Column("spent", sa.Float, nullable=False, server_default=_zero()),
    sa.Column("notified", sa.Integer, nullable=False, server_default=_zero()),
    sqlite_with_rowid=False,
)

guild_channels = sa.Table(
    "guild_channels",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),
    sa.Column("channel_id", Id, primary_key=True),
)

guild_blocked_words = sa.Table(
    "guild_blocked_words",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),
    sa.Column("word", sa.Text, primary_key=True),
)

admin_audit = sa.Table(
    "admin_audit",
    metadata,
    sa.Column("id", AutoId, primary_key=True, autoincrement=True),
    sa.Column("guild_id", Id, nullable=False),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("admin_audit_guild", "guild_id", "id"),
    sqlite_autoincrement=True,
)

leaderboard_optout = sa.Table(
    "leaderboard_optout",
    metadata,
    sa.Column("user_id", Id, primary_key=True, autoincrement=False),
    sa.Column("created_at", Time, nullable=False),
)

# What restart recovery needs for each job; `interaction_token` is a 15-minute credential, cleared early.
job_journal = sa.Table(
    "job_journal",
    metadata,
    sa.Column("job_id", Id, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    sa.Column("interaction_id", Id),
    sa.Column("interaction_token", sa.Text),
    sa.Column("token_expires_at", Time),
    sa.Column("status_message_id", Id),
    sa.Column("upload_limit", sa.Integer),
    sa.Column("resumes_job_id", Id),
    sa.Column("recovered_at", Time),
    sa.Column("retried_by", Id),
    sa.Column("origin_kind", sa.Text),  # "interaction" (token) or "message" (a reply to the member's message)
    sa.Column("reply_to_id", Id),  # the member's message a "message" job answers
    sa.Index(
        "job_journal_tokens",
        "job_id",
        sqlite_where=sa.text(PARTIAL["job_journal_tokens"]),
    ),
)

# Reference images as sent to the API, for Reroll and Retry after a restart.
job_references = sa.Table(
    "job_references",
    metadata,
    sa.Column("job_id", Id, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("mime", sa.Text, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# forget-me: this month's images of a forgotten member (per day) still count against their daily and monthly
# limits until the day and the month end.
forgotten_today = sa.Table(
    "forgotten_today",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True),
    sa.Column("images", sa.Integer, nullable=False),
)

# "Add to references": images a member collected for later use, kept for REFERENCE_TRAY_TTL.
reference_tray = sa.Table(
    "reference_tray",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),  # 0 outside a server
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("message_id", Id, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("channel_id", Id, nullable=False),
    sa.Column("added_at", Time, nullable=False),
    sa.Index("reference_tray_member", "guild_id", "user_id", "added_at"),
)

# /settings: a member's defaults in one server, used when /imagine (or a blend) leaves an option empty.
member_defaults = sa.Table(
    "member_defaults",
    metadata,
    sa.Column("guild_id", Id, primary_key=True),  # 0 outside a server
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("resolution", sa.Text),  # NULL: the server's default
    sa.Column("aspect", sa.Text),  # NULL: the ratio from the prompt
    sa.Column("count", sa.Integer),  # NULL: one image
    sa.Column("model", sa.Text),  # NULL: the server's default model
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("member_defaults_by_user", "user_id"),  # forget-me
)


# A server's own image API key (issue 11): `sealed` is the Fernet token of {guild, key, base_url} under a key
# derived from SECRET_KEY; `hint` (the key's last four characters) and `host` (of the base URL: a relay's path may
# carry a token, so the URL itself is only sealed) are kept in clear for display.
guild_api_keys = sa.Table(
    "guild_api_keys",
    metadata,
    sa.Column("guild_id", Id, primary_key=True, autoincrement=False),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.Column("hint", sa.Text, nullable=False),
    sa.Column("host", sa.Text),  # None: IMAGE_API_BASE_URL
    sa.Column("set_by", Id, nullable=False),
    sa.Column("set_at", Time, nullable=False),
)

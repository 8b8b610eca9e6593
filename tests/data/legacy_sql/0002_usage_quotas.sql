-- Usage, quotas and leaderboards.
--
-- Rollups: usage_daily (per server, UTC day, member) and usage_total (per server, member) are kept by
-- triggers, so they change in the same transaction as the job row. A job is added exactly once, when
-- its finished_at goes from NULL to a value (finish_job only ever does that once). Only delivered
-- images count; an image recorded after the job finished is added by the second trigger.
-- guild_id 0 stands for "no server" (DMs); user_id 0 is a member who asked to be forgotten.

CREATE TABLE usage_daily (
    guild_id INTEGER NOT NULL,
    day      INTEGER NOT NULL,  -- UTC day number: floor(jobs.created_at / 86400)
    user_id  INTEGER NOT NULL,
    images   INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    failed   INTEGER NOT NULL DEFAULT 0,
    blocked  INTEGER NOT NULL DEFAULT 0,
    tokens   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, day, user_id)
) WITHOUT ROWID;

CREATE INDEX usage_daily_user ON usage_daily (guild_id, user_id, day);

CREATE TABLE usage_total (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    images   INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    failed   INTEGER NOT NULL DEFAULT 0,
    blocked  INTEGER NOT NULL DEFAULT 0,
    tokens   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

-- Backfill from the jobs that finished before this migration.
INSERT INTO usage_daily (guild_id, day, user_id, images, requests, failed, blocked, tokens)
SELECT COALESCE(guild_id, 0), CAST(created_at / 86400 AS INTEGER), user_id, SUM(images_delivered), COUNT(*),
       SUM(status = 'failed'), SUM(status = 'blocked'), SUM(output_tokens)
FROM jobs WHERE finished_at IS NOT NULL
GROUP BY COALESCE(guild_id, 0), CAST(created_at / 86400 AS INTEGER), user_id;

INSERT INTO usage_total (guild_id, user_id, images, requests, failed, blocked, tokens)
SELECT guild_id, user_id, SUM(images), SUM(requests), SUM(failed), SUM(blocked), SUM(tokens)
FROM usage_daily GROUP BY guild_id, user_id;

CREATE TRIGGER usage_job_finished AFTER UPDATE OF finished_at ON jobs
WHEN OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL
BEGIN
    INSERT INTO usage_daily (guild_id, day, user_id, images, requests, failed, blocked, tokens)
    VALUES (COALESCE(NEW.guild_id, 0), CAST(NEW.created_at / 86400 AS INTEGER), NEW.user_id, NEW.images_delivered, 1,
            NEW.status = 'failed', NEW.status = 'blocked', NEW.output_tokens)
    ON CONFLICT (guild_id, day, user_id) DO UPDATE SET
        images = images + excluded.images, requests = requests + 1, failed = failed + excluded.failed,
        blocked = blocked + excluded.blocked, tokens = tokens + excluded.tokens;
    INSERT INTO usage_total (guild_id, user_id, images, requests, failed, blocked, tokens)
    VALUES (COALESCE(NEW.guild_id, 0), NEW.user_id, NEW.images_delivered, 1,
            NEW.status = 'failed', NEW.status = 'blocked', NEW.output_tokens)
    ON CONFLICT (guild_id, user_id) DO UPDATE SET
        images = images + excluded.images, requests = requests + 1, failed = failed + excluded.failed,
        blocked = blocked + excluded.blocked, tokens = tokens + excluded.tokens;
END;

CREATE TRIGGER usage_late_image AFTER INSERT ON job_images
WHEN (SELECT finished_at FROM jobs WHERE id = NEW.job_id) IS NOT NULL
BEGIN
    UPDATE usage_daily SET images = images + 1
    WHERE (guild_id, day, user_id) = (
        SELECT COALESCE(guild_id, 0), CAST(created_at / 86400 AS INTEGER), user_id FROM jobs WHERE id = NEW.job_id);
    UPDATE usage_total SET images = images + 1
    WHERE (guild_id, user_id) = (SELECT COALESCE(guild_id, 0), user_id FROM jobs WHERE id = NEW.job_id);
END;

-- Per-server overrides of the configured defaults (value is JSON).
CREATE TABLE guild_settings (
    guild_id INTEGER NOT NULL,
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (guild_id, key)
);

CREATE TABLE guild_exempt_roles (
    guild_id INTEGER NOT NULL,
    role_id  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, role_id)
);

-- When a server lists channels here, the bot only generates in those.
CREATE TABLE guild_channels (
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);

CREATE TABLE guild_blocked_words (
    guild_id INTEGER NOT NULL,
    word     TEXT    NOT NULL,
    PRIMARY KEY (guild_id, word)
);

-- Every admin change: who, what, when.
CREATE TABLE admin_audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    created_at REAL    NOT NULL
);

CREATE INDEX admin_audit_guild ON admin_audit (guild_id, id);

-- Members who do not want to appear on leaderboards (in any server).
CREATE TABLE leaderboard_optout (
    user_id    INTEGER PRIMARY KEY,
    created_at REAL NOT NULL
);

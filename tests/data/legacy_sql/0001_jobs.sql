-- Jobs and the images each one delivered.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id         INTEGER,
    channel_id       INTEGER,
    user_id          INTEGER NOT NULL,
    kind             TEXT    NOT NULL DEFAULT 'imagine',
    prompt           TEXT    NOT NULL,
    params           TEXT    NOT NULL DEFAULT '{}',
    images_requested INTEGER NOT NULL,
    images_delivered INTEGER NOT NULL DEFAULT 0,
    images_failed    INTEGER NOT NULL DEFAULT 0,
    output_tokens    INTEGER NOT NULL DEFAULT 0,
    status           TEXT    NOT NULL DEFAULT 'queued',
    error_code       TEXT,
    created_at       REAL    NOT NULL,
    started_at       REAL,
    finished_at      REAL
);

CREATE INDEX jobs_guild_created ON jobs (guild_id, created_at);
CREATE INDEX jobs_user_created ON jobs (guild_id, user_id, created_at);
CREATE INDEX jobs_status ON jobs (status);

CREATE TABLE job_images (
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    message_id  INTEGER,
    channel_id  INTEGER,
    url         TEXT,
    width       INTEGER,
    height      INTEGER,
    bytes       INTEGER,
    delivered_at REAL NOT NULL,
    PRIMARY KEY (job_id, idx)
);

-- Small key/value facts about the installation (e.g. the hash of the last synced command tree).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

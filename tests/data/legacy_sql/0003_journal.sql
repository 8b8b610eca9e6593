-- Job journal: what restart recovery needs for each job, kept next to `jobs`.
-- `interaction_token` is a credential for 15 minutes: it is cleared once the job is finished or recovered.
CREATE TABLE job_journal (
    job_id            INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    interaction_id    INTEGER,
    interaction_token TEXT,
    token_expires_at  REAL,
    status_message_id INTEGER,
    upload_limit      INTEGER,
    resumes_job_id    INTEGER,
    recovered_at      REAL,
    retried_by        INTEGER
);

-- Reference images as they were sent to the API (already decoded, checked and downscaled), so an
-- interrupted job can be retried after a restart. Deleted when the job is finished or retried.
CREATE TABLE job_references (
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    mime   TEXT    NOT NULL,
    width  INTEGER NOT NULL,
    height INTEGER NOT NULL,
    data   BLOB    NOT NULL,
    PRIMARY KEY (job_id, idx)
);

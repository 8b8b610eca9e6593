-- The prepared (already checked and downscaled) reference images of each job, so that a Reroll
-- button can run the same job again long after Discord's attachment URLs have expired.
CREATE TABLE job_references (
    job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx     INTEGER NOT NULL,
    mime    TEXT    NOT NULL,
    width   INTEGER NOT NULL,
    height  INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (job_id, idx)
);

-- /usage forget-me anonymises a member's history at once, but the images they made today still count
-- against their daily limit until 00:00 UTC: otherwise forgetting would reset the limit. Only counts are
-- kept here (no prompt, never shown on a leaderboard); rows of past days are deleted.
CREATE TABLE forgotten_today (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    images   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id, day)
);

"""Numbered SQL migrations; `PRAGMA user_version` records the last one applied."""

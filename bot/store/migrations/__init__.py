"""The Alembic migration history of the store (SQLite and PostgreSQL); run by `bot.store.migrate`."""

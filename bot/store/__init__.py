"""SQLite persistence (aiosqlite): jobs, delivered images and usage."""

from bot.store.store import DeliveredImage, JobRecord, NewJob, UsageStore

__all__ = ["DeliveredImage", "JobRecord", "NewJob", "UsageStore"]

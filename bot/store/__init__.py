"""Persistence (SQLAlchemy Core over SQLite or PostgreSQL): jobs, delivered images and usage."""

from bot.store.guard import DatabaseInUse
from bot.store.store import DeliveredImage, JobRecord, NewJob, UsageStore

__all__ = ["DatabaseInUse", "DeliveredImage", "JobRecord", "NewJob", "UsageStore"]

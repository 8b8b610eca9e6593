"""A job's model and the price of its images: one function each, so that per-model prices change one line."""

from __future__ import annotations

from bot.settings import Settings


def job_model(settings: Settings, requested: str | None = None) -> str:
    """The model a job runs on: the one it asked for, else IMAGE_MODEL."""
    return requested or settings.image_model


def offered_models(settings: Settings) -> tuple[str, ...]:
    """The model ids this bot offers (a tier's allowed models are chosen among them)."""
    return (settings.image_model,)


def price_per_image(settings: Settings, model: str) -> float:
    """The estimated price of one delivered image of `model` (today PRICE_PER_IMAGE for every model)."""
    return settings.price_per_image


def money(value: float) -> str:
    """`$0.12` (prices are US$ on the official platform)."""
    return f"${value:,.2f}"

"""A job's model and the price of its images: one function each, so that per-model prices change one line."""

from __future__ import annotations

from bot import i18n
from bot.settings import Settings


def job_model(settings: Settings, requested: str | None = None) -> str:
    """The model id a job runs on: the one it asked for, else the default model."""
    return settings.catalog.get(requested).id


def offered_models(settings: Settings) -> tuple[str, ...]:
    """The model ids this bot offers (a tier's allowed models are chosen among them)."""
    return tuple(model.id for model in settings.catalog.offered)


def price_per_image(settings: Settings, model: str) -> float:
    """The price of one image of `model` (MODEL_PRICES, else PRICE_PER_IMAGE, else the built-in price)."""
    return settings.catalog.get(model).price


def money(value: float) -> str:
    """`$0.12` / `0,12 $US` in the current language (prices are US$ on the official platform)."""
    return i18n.money(value, currency="USD")

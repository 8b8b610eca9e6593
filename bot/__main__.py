"""Entry point: `python -m bot` or `imagine-bot` runs the bot."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

import aiohttp
from pydantic import ValidationError

from bot.settings import Settings, describe_validation_error
from bot.usage_export import add_usage_commands, run_usage_command

log = logging.getLogger("bot")

EXIT_CONFIG = 2


class RedactingFormatter(logging.Formatter):
    """A formatter that masks secret values wherever they appear, tracebacks included."""

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if len(s) >= 4]

    def format(self, record: logging.LogRecord) -> str:
        """Format, then mask."""
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure_logging(settings: Settings) -> None:
    """Log to stderr with secrets masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s",
            [settings.discord_token.get_secret_value(), settings.image_api_key.get_secret_value()],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    logging.getLogger("discord").setLevel(max(logging.INFO, root.level))


def load_settings() -> Settings:
    """Settings from the environment; exits with code 2 and one clear line when something is wrong."""
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as error:
        print(f"Configuration error: {describe_validation_error(error)}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


async def run_bot(settings: Settings) -> None:
    """Open the shared resources, run the bot until it stops, close them."""
    from bot.client import ImageBot
    from bot.services import build_services
    from bot.store import UsageStore

    async with aiohttp.ClientSession() as http:
        store = await UsageStore.open(settings.database_path)
        try:
            bot = ImageBot(build_services(settings, http, store))
            stopping: list[asyncio.Task[None]] = []
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, lambda: stopping.append(asyncio.create_task(bot.shutdown())))
            async with bot:
                await bot.start(settings.discord_token.get_secret_value())
            await asyncio.gather(*stopping)
        finally:
            await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="imagine-bot", description="Seedream 4.0 image bot for Discord")
    subparsers = parser.add_subparsers(dest="command")
    add_usage_commands(subparsers)
    args = parser.parse_args(argv)
    if args.command == "usage":
        return run_usage_command(args)  # owner tools need only DATABASE_URL, not the bot's secrets
    settings = load_settings()
    configure_logging(settings)
    try:
        asyncio.run(run_bot(settings))
    except KeyboardInterrupt:
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

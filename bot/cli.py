"""The command line: without a command, runs the bot; `check`, `generate`, `usage`, `db` and `worker` (entry point:
bot/__main__.py)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_settings import SettingsError

from bot.cpu import yield_to_gateways
from bot.db_cli import add_db_commands, run_db_command
from bot.decode_pool import big_blocks_from_mmap
from bot.doctor import add_check_command
from bot.generate_cli import add_generate_command
from bot.heap import resume_collector, set_aside_start_up_heap
from bot.logs import RedactingFormatter, make_handler
from bot.metrics import MetricsUnavailable
from bot.settings import Settings, describe_validation_error, is_postgresql
from bot.startup import describe_settings_error, exit_soon, explain
from bot.store.guard import DatabaseInUse
from bot.usage_export import add_usage_commands, run_usage_command

__all__ = ["RedactingFormatter", "configure_logging", "load_settings", "main"]

log = logging.getLogger("bot")

EXIT_CONFIG = 2
EXIT_IN_USE = 1
QUIET_LOGGERS = ("sqlalchemy", "aiosqlite", "asyncpg", "alembic")
APP_LOGGERS = ("bot", "cogs")  # LOG_LEVEL applies to these; libraries stay at INFO or above


def configure_logging(settings: Settings) -> None:
    """Log to stderr (text or JSON), each line tagged with its job or interaction id, secrets masked.

    LOG_LEVEL applies to the bot's own loggers only: every library logs at INFO at most (at DEBUG they log
    request bodies, SQL parameters, tokens and image bytes), the database drivers at WARNING.
    """
    handler = make_handler(settings.log_format, settings.secret_values)
    handler.addFilter(drop_voice_warnings)
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.INFO, level))
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for quiet in QUIET_LOGGERS:  # at DEBUG they would log SQL statements and their parameters (tokens)
        logging.getLogger(quiet).setLevel(logging.WARNING)


def drop_voice_warnings(record: logging.LogRecord) -> bool:
    """Drop discord.py's start-up warnings about voice support (PyNaCl, davey): the bot has no voice."""
    return not (record.name == "discord.client" and "voice will NOT be supported" in record.getMessage())


def load_settings() -> Settings:
    """Settings from the environment; exits with code 2 and one clear line when something is wrong."""
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as error:
        print(f"Configuration error: {describe_validation_error(error)}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    except SettingsError as error:
        print(f"Configuration error: {describe_settings_error(error)}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


async def run_bot(settings: Settings, *, gateway: bool = True) -> None:
    """Open the shared resources, run the bot (or, without `gateway`, only a worker) until it stops, close them."""
    from bot.client import ImageBot
    from bot.identify import LocalIdentifyGate, SharedIdentifyGate
    from bot.metrics import start_metrics_server
    from bot.services import build_services, http_session
    from bot.store import UsageStore

    async with http_session(settings) as http:
        store = await UsageStore.open(settings.database_url)
        metrics_server = None
        services = None
        try:
            if gateway:  # the connections a first burst of commands needs, before it comes
                await store.warm_up()
            services = build_services(settings, http, store)
            if settings.metrics_port is not None:
                metrics_server = await start_metrics_server(
                    services.metrics, settings.metrics_host, settings.metrics_port
                )
            gate = SharedIdentifyGate(store) if store.backend == "postgresql" else LocalIdentifyGate()
            bot = ImageBot(services, identify_gate=gate, gateway=gateway)
            stopping: list[asyncio.Task[None]] = []
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, lambda: stopping.append(asyncio.create_task(bot.shutdown())))
            async with bot:
                await bot.login(settings.discord_token.get_secret_value())  # setup_hook: cogs, commands, the worker
                set_aside_start_up_heap()
                log.debug("start-up objects set aside from the garbage collector")
                if gateway:
                    await bot.connect()
                else:  # REST only: run until a signal stops it
                    log.info("worker only: running jobs, no gateway connection")
                    await bot.wait_until_closed()
            await asyncio.gather(*stopping)
        finally:
            if metrics_server is not None:
                await metrics_server.cleanup()
            if services is not None:
                await services.keys.close()
            await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(
        prog="imagine-bot", description="Seedream image bot for Discord; without a command, runs the bot."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_check_command(commands)
    add_generate_command(commands)
    add_usage_commands(commands)
    add_db_commands(commands)
    commands.add_parser("worker", help="run jobs only (no gateway connection); needs a PostgreSQL DATABASE_URL")
    args = parser.parse_args(argv)
    if args.command not in (None, "worker"):
        resume_collector()  # a tool, not the bot: nothing to set aside
    if args.command == "usage":
        return run_usage_command(args)  # owner tools need only DATABASE_URL, not the bot's secrets
    if args.command == "db":
        return run_db_command(args)
    if getattr(args, "run", None) is not None:
        return int(args.run(args))
    settings = load_settings()
    if args.command == "worker" and not is_postgresql(settings.database_url):
        print(
            "Configuration error: DATABASE_URL: `worker` runs beside other processes, which needs a PostgreSQL"
            " database (postgresql://…); with SQLite, `python -m bot` alone runs the gateway and the worker.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    configure_logging(settings)
    if args.command == "worker":
        yield_to_gateways()
    big_blocks_from_mmap()  # images and reference bytes go back to the system once posted or sent
    return run_until_stopped(settings, gateway=args.command != "worker")


def run_until_stopped(settings: Settings, *, gateway: bool = True) -> int:
    """Run the bot (or a worker only); a known failure at start prints one line naming the cause and the fix."""
    try:
        asyncio.run(run_bot(settings, gateway=gateway))
    except KeyboardInterrupt:
        log.info("stopped")
    except MetricsUnavailable as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseInUse as error:
        print(f"Not started: {error}.", file=sys.stderr)
        return EXIT_IN_USE
    except Exception as error:
        known = explain(error, settings)
        if known is None:
            raise
        code, line = known
        print(f"Not started: {line}", file=sys.stderr)
        exit_soon(code)
        return code
    return 0

"""`python -m bot db migrate-to postgresql://…`: copy the configured SQLite database into PostgreSQL.

Needs only DATABASE_URL (the SQLite source), not the bot's secrets. Never prints the target's password.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic import ValidationError

from bot.settings import (
    check_database_url,
    database_path,
    database_secrets,
    describe_validation_error,
    is_postgresql,
    mask_database_url,
)
from bot.store import DatabaseInUse, UsageStore
from bot.store.copy import TargetNotEmpty, copy_store
from bot.usage_export import DatabaseSettings

EXIT_USAGE = 2
EXIT_FAILED = 1


def add_db_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `db migrate-to`."""
    db = subparsers.add_parser("db", help="database tools")
    actions = db.add_subparsers(dest="db_command", required=True)
    copy = actions.add_parser("migrate-to", help="copy the SQLite database (DATABASE_URL) into an empty PostgreSQL")
    copy.add_argument("target", help="postgresql://user:password@host:5432/database")


def run_db_command(args: argparse.Namespace) -> int:
    """Run a `db` subcommand; returns the exit code."""
    try:
        source = DatabaseSettings().database_url
    except ValidationError as error:
        print(f"Configuration error: {describe_validation_error(error)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        check_database_url(args.target)
    except ValueError as error:
        print(f"The target {error}.", file=sys.stderr)
        return EXIT_USAGE
    if is_postgresql(source) or not is_postgresql(args.target):
        print("DATABASE_URL must name the SQLite database and the target a postgresql:// URL.", file=sys.stderr)
        return EXIT_USAGE
    if not database_path(source).exists():
        print(f"No database at {database_path(source)}.", file=sys.stderr)
        return EXIT_USAGE
    try:
        counts = asyncio.run(migrate_to(source, args.target))
    except (DatabaseInUse, TargetNotEmpty) as error:
        print(f"Not copied: {error}.", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # connection refused, authentication failed, ...: one line, no password
        print(f"Not copied: {type(error).__name__}: {_first_line(error, args.target)}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Copied {mask_database_url(source)} into {mask_database_url(args.target)}:")
    for table, count in counts.items():
        print(f"  {table}: {count}")
    return 0


async def migrate_to(source_url: str, target_url: str) -> dict[str, int]:
    """Migrate the target to the newest schema and copy every table into it; rows copied per table."""
    source = await UsageStore.open(source_url)  # refused while the bot runs on it: the copy would be torn
    try:
        target = await UsageStore.open(target_url)
        try:
            return await copy_store(source, target)
        finally:
            await target.close()
    finally:
        await source.close()


def _first_line(error: Exception, url: str) -> str:
    text = (str(error).splitlines() or [""])[0].replace(url, mask_database_url(url))
    for secret in database_secrets(url):
        text = text.replace(secret, "***")
    return text

"""Bring a database to the newest schema with the packaged Alembic history (no alembic.ini needed).

Alembic is imported only when a database has to be migrated: a start-up on a current database reads one row.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bot.store.db import lock_key

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "bot.store:migrations"
LEGACY_VERSIONS = {1: "0001", 2: "0002", 3: "0003", 5: "0005"}  # PRAGMA user_version of the old .sql scheme
VERSIONS = Path(__file__).parent / "migrations" / "versions"


@functools.cache
def revisions() -> tuple[str, ...]:
    """Every revision id, oldest first: a revision's file starts with its id (`0015_languages.py`), and each
    revision follows the one before it (a test holds this against Alembic's own reading of the history)."""
    return tuple(sorted(path.name.split("_", 1)[0] for path in VERSIONS.glob("[0-9]*_*.py")))


def head() -> str:
    """The newest revision."""
    return revisions()[-1]


def target(upto: int | None) -> str:
    """The revision to migrate to: the newest, or the newest numbered at most `upto`."""
    if upto is None:
        return head()
    eligible = [rev for rev in revisions() if int(rev) <= upto]
    if not eligible:
        raise ValueError(f"no migration numbered {upto} or lower")
    return eligible[-1]


def _config() -> Config:
    from alembic.config import Config  # only when a database needs migrating

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def current(connection: sa.Connection) -> str | None:
    """The revision recorded in the database (None when it has no Alembic history)."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(connection: sa.Connection, upto: int | None = None) -> None:
    """Migrate inside the caller's transaction; databases of the old `PRAGMA user_version` scheme are adopted."""
    if connection.dialect.name == "postgresql":  # several processes may start at once
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key("bot.store.migrate"))))
    wanted = target(upto)
    found = current(connection)
    if found == wanted:
        return
    from alembic import command  # only when a database needs migrating

    config = _config()
    config.attributes["connection"] = connection
    if found is None and connection.dialect.name == "sqlite":
        legacy = int(connection.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        if legacy:
            if legacy not in LEGACY_VERSIONS:
                raise RuntimeError(f"unknown schema version {legacy} (PRAGMA user_version) in this database")
            log.info("adopting a database of schema version %d into the migration history", legacy)
            command.stamp(config, LEGACY_VERSIONS[legacy])
    log.info("migrating the database from %s to %s", found or "its current schema", wanted)
    command.upgrade(config, wanted)

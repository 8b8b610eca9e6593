"""One migration history: fresh databases match the schema on both backends; old SQLite databases upgrade."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.store import NewJob, UsageStore, migrate
from bot.store.migrate import head
from bot.store.schema import metadata
from tests import legacy

DAY = 86400.0
JOB = (
    "INSERT INTO jobs (guild_id, channel_id, user_id, prompt, params, images_requested, status, created_at)"
    " VALUES (?, 5, ?, ?, '{\"size\": \"2K\"}', ?, 'queued', ?)"
)
IMAGE = "INSERT INTO job_images (job_id, idx, url, delivered_at) VALUES (?, ?, 'u', 1)"
FINISH = "UPDATE jobs SET status = ?, images_delivered = ?, output_tokens = 10, finished_at = ? WHERE id = ?"


async def test_a_fresh_database_matches_the_schema_definition(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        async with store.engine.connect() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        assert diff == []
    finally:
        await store.close()


def old_database(path: Path, version: int) -> None:
    """An old-scheme database with two finished jobs of member 7, one of member 8 and one still running."""
    legacy.build(path, version)
    legacy.execute(path, JOB, (1, 7, "a", 2, DAY + 10), (1, 7, "b", 2, DAY + 20), (1, 8, "c", 1, DAY + 30))
    legacy.execute(path, JOB, (1, 9, "d", 2, DAY + 40))
    legacy.execute(path, IMAGE, (1, 0), (1, 1), (3, 0))
    legacy.execute(path, FINISH, ("completed", 2, DAY + 11, 1), ("failed", 0, DAY + 21, 2), ("partial", 1, DAY + 31, 3))


async def test_a_version_5_database_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_database(path, 5)  # the triggers filled the rollups
    legacy.execute(path, "INSERT INTO guild_settings VALUES (1, 'quota', '5')")
    assert legacy.names(path, "trigger") == {"usage_job_finished", "usage_late_image"}

    store = await UsageStore.open(path, clock=lambda: DAY + 100)
    try:
        assert await store.schema_version() == int(head())
        assert legacy.names(path, "trigger") == set()
        assert [j.prompt for j in await store.recent_jobs()] == ["d", "c", "b", "a"]
        assert [i.index for i in await store.job_images(1)] == [0, 1]
        assert (await store.guilds.load(1)).overrides == {"quota": 5}
        seven = await store.usage.totals(1, 7, None, 0)
        assert (seven.images, seven.requests, seven.failed, seven.tokens) == (2, 2, 1, 20)
        assert seven.cost == pytest.approx(0.06), "0008: old jobs cost their delivered images at $0.03"
        first = await store.get_job(1)
        assert first is not None and (first.images_billed, first.cost) == (2, pytest.approx(0.06))

        await store.finish_job(4, "completed", output_tokens=3)  # in flight during the upgrade: counted once
        await store.record_image(4, 0, message_id=1, channel_id=5, url=None)  # a late image of it
        new = await store.create_job(NewJob(1, 5, 7, "e", 1))
        await store.record_image(new, 0, message_id=1, channel_id=5, url=None)
        await store.finish_job(new, "completed")
        nine = await store.usage.totals(1, 9, 1, 2)
        assert (nine.images, nine.requests, nine.tokens) == (1, 1, 3)
        assert (await store.usage.totals(1, 7, None, 0)).images == 3
        assert (await store.usage.totals(1, None, 1, 2)).requests == 5
    finally:
        await store.close()


@pytest.mark.parametrize("version", [1, 2, 3, 5])
async def test_every_old_schema_version_reaches_the_same_schema(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    old_database(path, version)
    fresh = tmp_path / "fresh.db"
    for target in (path, fresh):
        store = await UsageStore.open(target)
        await store.close()
    for kind in ("table", "index", "trigger"):
        assert legacy.names(path, kind) == legacy.names(fresh, kind)
    store = await UsageStore.open(path)
    try:
        seven = await store.usage.totals(1, 7, None, 0)  # schema 1 had no rollups: backfilled from the jobs
        assert (seven.images, seven.requests, seven.failed, seven.tokens) == (2, 2, 1, 20)
        assert (await store.usage.totals(1, None, 1, 2)).images == 3
    finally:
        await store.close()


async def test_revision_0008_costs_the_finished_jobs_of_an_0007_database(database_url: str) -> None:
    store = await UsageStore.open(database_url, upto=7)
    try:
        async with store.engine.begin() as conn:
            for job_id, delivered, finished in ((1, 3, DAY + 5), (2, 0, None)):
                await conn.execute(
                    sa.text(
                        "INSERT INTO jobs (id, guild_id, user_id, prompt, images_requested, images_delivered, status,"
                        " created_at, finished_at) VALUES (:id, 1, 7, 'p', 3, :n, :status, :at, :done)"
                    ),
                    {
                        "id": job_id,
                        "n": delivered,
                        "status": "completed" if finished else "queued",
                        "at": DAY,
                        "done": finished,
                    },
                )
            await conn.execute(
                sa.text("INSERT INTO usage_total (guild_id, user_id, images, requests) VALUES (1, 7, 3, 1)")
            )
    finally:
        await store.close()
    store = await UsageStore.open(database_url)
    try:
        done, waiting = await store.get_job(1), await store.get_job(2)
        assert done is not None and (done.images_billed, done.cost) == (3, pytest.approx(0.09))
        assert waiting is not None and (waiting.images_billed, waiting.cost) == (0, 0)
        assert (await store.usage.totals(1, 7, None, 0)).cost == pytest.approx(0.09)
    finally:
        await store.close()


def test_the_history_read_from_file_names_is_alembics_own() -> None:
    config = Config()
    config.set_main_option("script_location", migrate.SCRIPT_LOCATION)
    script = ScriptDirectory.from_config(config)
    chain = tuple(reversed([rev.revision for rev in script.walk_revisions()]))
    assert migrate.revisions() == chain and script.get_current_head() == migrate.head()
    for older, newer in itertools.pairwise(chain):
        revision = script.get_revision(newer)
        assert revision is not None and revision.down_revision == older, "each revision follows the one before it"

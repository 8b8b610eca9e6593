"""`python -m bot db migrate-to postgresql://…`: an SQLite database copied into PostgreSQL, end to end."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.store import NewJob, UsageStore
from bot.store.journal import Origin, StoredReference
from bot.store.member_defaults import MemberDefaults
from tests.postgres import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


async def migrate_to(database: Path, target: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(ROOT)}
    for secret in ("DISCORD_TOKEN", "IMAGE_API_KEY"):
        env.pop(secret, None)  # the tool needs only DATABASE_URL
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "migrate-to", target,
        cwd=database.parent, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def sqlite_with_history(database: Path) -> None:
    store = await UsageStore.open(database, clock=lambda: 86_400.0 * 3)
    try:
        for user in (7, 7, 8):
            job = await store.create_job(NewJob(1, 5, user, f"prompt {user}", 1, {"size": "2K"}, model="m", size="2K"))
            await store.journal.open(job, Origin(), [StoredReference("image/png", 2, 2, b"\x89PNG\x00")])
            await store.record_image(job, 0, message_id=job, channel_id=5, url=None)
            await store.finish_job(job, "completed", output_tokens=4)
        await store.guilds.set_value(1, "quota_member_daily_images", 9, by=7)
        await store.set_meta("commands", "abc")
        await store.member_defaults.update(1, 7, aspect="16:9", count=4)
    finally:
        await store.close()


async def test_an_sqlite_database_is_copied_into_postgresql(tmp_path: Path, postgres_url: str) -> None:
    database = tmp_path / "bot.db"
    await sqlite_with_history(database)

    code, out, err = await migrate_to(database, postgres_url)
    assert code == 0, err
    assert "jobs: 3" in out and "job_references: 3" in out and "admin_audit: 1" in out and "member_defaults: 1" in out
    assert PASSWORD not in out + err and "***" in out

    store = await UsageStore.open(postgres_url, clock=lambda: 86_400.0 * 3)
    try:
        assert [(j.id, j.user_id, j.params) for j in await store.recent_jobs()] == [
            (3, 8, {"size": "2K"}),
            (2, 7, {"size": "2K"}),
            (1, 7, {"size": "2K"}),
        ]
        assert (await store.usage.totals(1, 7, None, 0)).images == 2
        assert {(j.model, j.size) for j in await store.recent_jobs()} == {("m", "2K")}
        assert await store.member_defaults.get(1, 7) == MemberDefaults(aspect="16:9", count=4)
        assert (await store.guilds.load(1)).overrides == {"quota_member_daily_images": 9}
        assert await store.get_meta("commands") == "abc"
        assert [r.data for r in await store.journal.references(2)] == [b"\x89PNG\x00"]
        new = await store.create_job(NewJob(1, 5, 7, "after the move", 1))  # ids continue after the copied ones
        assert new == 4
        await store.finish_job(new, "completed")
        assert (await store.usage.totals(1, 7, 3, 4)).requests == 3
    finally:
        await store.close()

    code, out, err = await migrate_to(database, postgres_url)  # a second copy would mix two histories
    assert code == 1 and "already has data" in err and "jobs: 4" in err
    assert err.strip().count("\n") == 0 and PASSWORD not in out + err


async def test_an_unreachable_target_is_one_line_without_the_password(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    await sqlite_with_history(database)
    code, out, err = await migrate_to(database, f"postgresql://bot:{PASSWORD}@127.0.0.1:1/nowhere")
    assert code == 1 and err.startswith("Not copied: ") and err.strip().count("\n") == 0, err
    assert PASSWORD not in out + err

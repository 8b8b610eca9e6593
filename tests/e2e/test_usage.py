"""/usage end to end: per-period counts of delivered images, cost, quota left, privacy requests, CSV export."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.helpers import final_original, job_done
from tests.e2e.usage_helpers import Clock, done_text, forget_me
from tests.fakes.image_api import Fault
from tests.images import png


async def usage_of(discord_fake, user, **options) -> str:
    interaction = await discord_fake.slash(user, "usage show", **options)
    await interaction.wait_response()
    assert interaction.ephemeral
    return interaction.original.text


def line(text: str, start: str) -> str:
    return next(row for row in text.splitlines() if row.startswith(start))


async def test_usage_counts_only_delivered_images(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=10, price_per_image=0.05, show_costs=True)
    user = discord_fake.add_member()
    image_api.script(Fault.item_failed(1))
    partial = await discord_fake.slash(user, "imagine", prompt="three owls", count=3)
    await final_original(discord_fake, partial)
    image_api.script(Fault.status(400, "InvalidParameter"))
    failed = await discord_fake.slash(user, "imagine", prompt="broken owl")
    await final_original(discord_fake, failed)
    await job_done(harness, 2)

    text = await usage_of(discord_fake, user)
    today = line(text, "**Today")
    assert "2 images" in today and "2 requests (1 failed, 0 blocked)" in today and "$0.10" in today
    assert "2 images" in line(text, "**All time")
    assert "8 of 10 images left today" in text and "00:00 UTC" in text


async def test_usage_periods_cross_the_utc_day(discord_fake, image_api, running_bot) -> None:
    clock = Clock(Clock().now + 12 * 3600 - 5)  # Wednesday 23:59:55 UTC
    running_bot.store.clock = clock
    user = discord_fake.add_member()
    job = await discord_fake.slash(user, "imagine", prompt="midnight owl", count=2)
    await final_original(discord_fake, job)
    await job_done(running_bot)
    clock.advance(10)
    text = await usage_of(discord_fake, user)
    assert "0 images" in line(text, "**Today (Jun 12, 2025 UTC)")
    assert "2 images" in line(text, "**This week (since Monday, Jun 9, 2025, 00:00 UTC)")
    assert "2 images" in line(text, "**This month (June 2025, UTC)")


async def test_other_members_usage_needs_manage_server(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member(), discord_fake.add_member()
    admin = discord_fake.add_member(manage_guild=True)
    denied = await usage_of(discord_fake, alice, member=bob)
    assert "permission" in denied
    allowed = await usage_of(discord_fake, admin, member=bob)
    assert f"Usage of <@{bob.id}>" in allowed


async def test_forget_me_deletes_history_but_keeps_server_totals(discord_fake, image_api, running_bot) -> None:
    user = discord_fake.add_member()
    job = await discord_fake.slash(user, "imagine", prompt="my secret prompt", count=2)
    await final_original(discord_fake, job)
    [record] = await job_done(running_bot)

    forget = await forget_me(discord_fake, user)
    assert forget.followups[-1].ephemeral and "deleted" in done_text(forget)
    after = await running_bot.store.get_job(record.id)
    assert after is not None and after.user_id == 0 and after.prompt == ""
    assert "0 images" in line(await usage_of(discord_fake, user), "**All time")
    server = await running_bot.store.usage.totals(int(discord_fake.guild_id), None, None, 0)
    assert (server.images, server.requests) == (2, 1)
    board = await discord_fake.slash(user, "leaderboard", period="all")
    await board.wait_response()
    assert "Nobody has made anything" in board.original.text


async def test_export_writes_csv_without_the_bot_secrets(discord_fake, image_api, running_bot, tmp_path) -> None:
    user = discord_fake.add_member()
    job = await discord_fake.slash(user, "imagine", prompt="an exported fox", count=2)
    await final_original(discord_fake, job)
    [record] = await job_done(running_bot)
    day = datetime.fromtimestamp(record.created_at, UTC)
    out = tmp_path / "usage.csv"
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "IMAGE_API_KEY")}
    env["DATABASE_URL"] = running_bot.settings.database_url
    args = ["usage", "export", "--guild", discord_fake.guild_id, "--since", f"{day:%Y-%m-%d}"]
    args += ["--until", f"{day:%Y-%m-%d}", "--out", str(out)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    text = await asyncio.to_thread(Path(out).read_text, encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 1 and rows[0]["user_id"] == user.id and rows[0]["images_delivered"] == "2"
    assert rows[0]["status"] == "completed" and "prompt" not in rows[0]


async def test_forget_me_during_a_job_resets_no_limit(discord_fake, image_api, start_bot) -> None:
    harness = await start_bot(quota_member_daily_images=4)
    image_api.image_delay = 0.5
    user = discord_fake.add_member()
    slow = await discord_fake.slash(user, "imagine", prompt="a slow owl", count=3)
    await discord_fake.wait_for(lambda: image_api.requests)
    answers = []
    for _ in range(2):
        answers.append(done_text(await forget_me(discord_fake, user)))
    await final_original(discord_fake, slow)
    await job_done(harness)
    image_api.image_delay = 0.0
    again = await discord_fake.slash(user, "imagine", prompt="two more owls", count=2)
    await again.wait_response()
    assert again.ephemeral and "Daily limit per member" in again.original.text
    assert len(image_api.requests) == 1
    assert all("still running or waiting" in answer for answer in answers)


async def test_forget_me_empties_the_reference_tray(discord_fake, image_api, running_bot) -> None:
    alice, bob = discord_fake.add_member("alice"), discord_fake.add_member("bob")
    posted = await discord_fake.send_message(bob, "", attachments=[discord_fake.add_attachment(png(), "a.png")])
    added = await discord_fake.context_menu(alice, "Add to references", posted)
    await added.wait_response()
    await forget_me(discord_fake, alice)
    tray = await discord_fake.slash(alice, "imagine", prompt="x", use_tray=True)
    await tray.wait_response()
    assert tray.ephemeral and "tray is empty" in tray.original.text

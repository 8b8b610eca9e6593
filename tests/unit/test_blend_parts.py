"""Inline options, the reference tray, kept references and reference trimming."""

from __future__ import annotations

import pytest

from bot.errors import BadInput
from bot.imaging import PreparedReference
from bot.inline_options import parse_inline, strip_mentions
from bot.presentation.actions import closest_aspect
from bot.presentation.gallery import filename_of
from bot.presentation.launch import PendingReference
from bot.store import NewJob, UsageStore
from bot.store.journal import Origin, StoredReference
from bot.tray import ReferenceTray
from cogs.blend import trim_references


def test_inline_count_aspect_and_resolution_are_taken_out_of_the_prompt() -> None:
    options = parse_inline("turn this into a watercolor --n 4 --ar 16:9 --res 4k")
    assert (options.prompt, options.count, options.aspect, options.resolution) == (
        "turn this into a watercolor",
        4,
        "16:9",
        "4K",
    )


def test_inline_short_count_forms() -> None:
    assert parse_inline("x3 a cat").count == 3
    assert parse_inline("a cat ×2").count == 2
    assert parse_inline("a cat --count=5").count == 5
    assert parse_inline("a 4x4 grid of tiles").count is None


def test_inline_bad_aspect_is_refused() -> None:
    with pytest.raises(BadInput, match="aspect ratio"):
        parse_inline("a cat --ar 5:4")


def test_only_the_bots_mention_is_stripped() -> None:
    assert strip_mentions("<@1> draw <@!1> with <@2>", 1).split() == ["draw", "with", "<@2>"]


async def test_tray_keeps_fourteen_and_skips_duplicates(database_url: str) -> None:
    store = await UsageStore.open(database_url)
    try:
        tray = ReferenceTray(store, ttl=60)
        images = [(f"{n}.png", f"https://cdn.discordapp.com/{n}.png") for n in range(16)]
        assert await tray.add(1, 2, images[:3], channel_id=5, message_id=6) == (3, 0)
        assert await tray.add(1, 2, images[:3], channel_id=5, message_id=6) == (0, 0)
        assert await tray.add(1, 2, images[3:], channel_id=5, message_id=7) == (11, 2)
        assert len(await tray.items(1, 2)) == 14 and await tray.items(1, 3) == []
    finally:
        await store.close()


async def test_tray_items_expire_and_survive_a_restart(database_url: str) -> None:
    now = [100.0]
    store = await UsageStore.open(database_url, clock=lambda: now[0])
    await ReferenceTray(store, ttl=60).add(1, 2, [("a.png", "u")], channel_id=5, message_id=6)
    await store.close()
    store = await UsageStore.open(database_url, clock=lambda: now[0])  # another process, or after a restart
    try:
        tray = ReferenceTray(store, ttl=60)
        now[0] = 159.0
        assert [item.name for item in await tray.items(1, 2)] == ["a.png"]
        now[0] = 161.0
        assert await tray.items(1, 2) == []
    finally:
        await store.close()


def test_references_are_trimmed_to_what_fits_with_the_count() -> None:
    images = [PendingReference(f"{n}.png", url="u") for n in range(16)]
    kept, note = trim_references(images, 1)
    assert len(kept) == 14 and note and "first 14 of 16" in note
    kept, note = trim_references(images[:3], 13)
    assert len(kept) == 2 and note
    with pytest.raises(BadInput):
        trim_references(images, 15)


def test_closest_aspect_and_filenames() -> None:
    assert closest_aspect(320, 240) == "4:3"
    assert closest_aspect(1080, 1920) == "9:16"
    assert filename_of("https://cdn.discordapp.com/attachments/1/2/seedream_4_2.jpg?ex=1&is=2") == "seedream_4_2.jpg"


async def test_job_references_are_kept_and_pruned(database_url: str) -> None:
    now = [1000.0]
    store = await UsageStore.open(database_url, clock=lambda: now[0])
    try:
        job = await store.create_job(NewJob(guild_id=1, channel_id=2, user_id=3, prompt="p", images_requested=1))
        refs = [PreparedReference(b"\x89PNG one", "image/png", 10, 20), PreparedReference(b"two", "image/jpeg", 30, 40)]
        stored = [StoredReference(r.mime, r.width, r.height, r.data) for r in refs]
        await store.journal.open(job, Origin(), stored)  # how every job's references are kept
        assert await store.references.load(job) == refs
        assert await store.references.prune(older_than=1001.0) == 0, "a running job keeps its references"
        await store.finish_job(job, "completed")
        assert await store.references.prune(older_than=999.0) == 0
        assert await store.references.prune(older_than=1001.0) == 2
        assert await store.references.load(job) == []
    finally:
        await store.close()

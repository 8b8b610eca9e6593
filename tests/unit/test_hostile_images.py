"""Hostile reference images: refused by their header, decoded small, a bounded number of pixels at a time."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import time

import pytest
from PIL import Image

from bot.decode_pool import DecodePool, PixelBudget, WorkerLost
from bot.errors import BadAttachment
from bot.imaging import prepare_reference, read_reference_header
from tests.images import declared_png, jpeg, tiny


@pytest.mark.parametrize("data", [declared_png(8000, 5000), declared_png(60000, 60000), tiny("WEBP", 8000, 6000)])
def test_over_36_megapixels_is_refused_by_header(data: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(BadAttachment, match="too large"):
        read_reference_header(data, "huge")
    with pytest.raises(BadAttachment, match="too large"):
        prepare_reference(data, "huge")
    assert time.monotonic() - started < 0.5  # nothing was decoded


@pytest.mark.parametrize(("size", "words"), [((20000, 1000), "long and thin"), ((14, 9000), "too small")])
def test_declared_shape_the_api_refuses_is_refused_by_header(size: tuple[int, int], words: str) -> None:
    with pytest.raises(BadAttachment, match=words):
        read_reference_header(declared_png(*size), "odd.png")


def test_big_webp_is_decoded_straight_to_the_target_size() -> None:
    data = tiny("WEBP", 7000, 5000)
    assert len(data) < 10_000
    header = read_reference_header(data, "h.webp", max_side=2048)
    assert header.decoded_pixels == 2048 * 1463
    ref = prepare_reference(data, "h.webp", max_side=2048)
    assert (ref.width, ref.height) == (2048, 1463) and ref.mime == "image/jpeg"
    assert Image.open(io.BytesIO(ref.data)).getpixel((10, 10)) == pytest.approx((40, 90, 160), abs=3)


def test_big_jpeg_is_decoded_at_a_reduced_scale() -> None:
    header = read_reference_header(jpeg(6000, 4000), "photo.jpg", max_side=2048)
    assert header.decoded_pixels == 3000 * 2000


def test_budget_lets_big_images_wait_their_turn() -> None:
    async def scenario() -> list[str]:
        budget, order = PixelBudget(100), []

        async def decode(name: str, pixels: int) -> None:
            async with budget.take(pixels):
                order.append(f"{name}+")
                await asyncio.sleep(0.01)
                order.append(f"{name}-")

        await asyncio.gather(decode("a", 80), decode("b", 80), decode("c", 500))
        assert budget.used == 0
        return order

    assert asyncio.run(scenario()) == ["a+", "a-", "b+", "b-", "c+", "c-"]


async def test_cancelled_waiter_gives_its_place_back() -> None:
    budget = PixelBudget(100)
    async with budget.take(100):
        waiter = asyncio.create_task(budget.take(50).__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
    async with budget.take(100):
        assert budget.used == 100
    assert budget.used == 0


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def test_killed_worker_is_reported_and_the_pool_recovers() -> None:
    pool = DecodePool(1)
    try:
        with pytest.raises(WorkerLost) as lost:
            await pool.run(_die)
        assert not lost.value.timed_out
        assert await pool.run(abs, -3) == 3
    finally:
        pool.shutdown()


async def test_hung_worker_is_stopped_and_the_pool_recovers() -> None:
    pool = DecodePool(1)
    try:
        with pytest.raises(WorkerLost) as lost:
            await pool.run(time.sleep, 30, timeout=1.0)
        assert lost.value.timed_out
        assert await pool.run(abs, -4) == 4
    finally:
        pool.shutdown()

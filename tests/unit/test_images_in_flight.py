"""MAX_IMAGES_IN_FLIGHT: across all jobs, at most N generated images are held between download and post."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.imagegen.client import ClientOptions, ImageApiClient
from bot.imagegen.models import GenerationRequest, ImageReady
from tests.fakes.image_api import FakeImageApi


@pytest.fixture
async def api() -> AsyncIterator[FakeImageApi]:
    fake = FakeImageApi(render_size=(96, 64))
    await fake.start()
    yield fake
    await fake.close()


async def test_a_second_job_waits_until_the_first_has_posted_its_image(api) -> None:
    request = GenerationRequest(model="doubao-seedream-4-0-250828", prompt="a cat")
    async with aiohttp.ClientSession() as http:
        client = ImageApiClient(http, api.base_url, "fake-api-key", ClientOptions(max_images_in_flight=1))
        first, second = client.generate(request), client.generate(request)
        assert isinstance(await anext(first), ImageReady)  # held: "posting" it now
        waiting = asyncio.ensure_future(anext(second))
        await api.wait_for(lambda: api.requests and all(r.sent_at for r in api.requests) and len(api.requests) == 2)
        await asyncio.sleep(0.2)
        assert not waiting.done() and len(api.results_fetched) == 1, "the second image must not be downloaded yet"
        await anext(first)  # the first job asks for its next event: its image is done with
        assert isinstance(await asyncio.wait_for(waiting, 5), ImageReady)
        await first.aclose()
        await second.aclose()

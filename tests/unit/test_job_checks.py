"""JobRunner.check: instant refusals that need no I/O."""

from __future__ import annotations

import aiohttp
import pytest

from bot.errors import BadInput
from bot.imagegen.client import ImageApiClient
from bot.jobs import JobRunner, JobSpec, ReferenceInput
from bot.settings import Settings


def spec(prompt: str = "a cat", count: int = 1, references: int = 0) -> JobSpec:
    refs = tuple(ReferenceInput(name=f"r{i}.png", data=b"x") for i in range(references))
    return JobSpec(1, 2, 3, prompt, count, "2K", "2K", refs)


@pytest.fixture
async def runner() -> JobRunner:
    settings = Settings(_env_file=None, discord_token="t" * 8, image_api_key="k" * 8)  # type: ignore[call-arg]
    async with aiohttp.ClientSession() as http:
        return JobRunner(settings, ImageApiClient(http, "http://127.0.0.1:9", "k"), store=None)  # type: ignore[arg-type]


async def test_more_than_fourteen_references_is_refused(runner) -> None:
    with pytest.raises(BadInput, match="At most 14 reference images"):
        runner.check(spec(references=15))


async def test_references_plus_count_over_fifteen_is_refused(runner) -> None:
    with pytest.raises(BadInput, match=r"at most 15 \(10 references \+ 6 images\)"):
        runner.check(spec(count=6, references=10))


async def test_prompt_of_control_characters_only_is_empty(runner) -> None:
    with pytest.raises(BadInput, match="prompt is empty"):
        runner.check(spec(prompt="\x00\x07\u200b\u2066 \n"))

"""The instant checks of a spec: refusals that need no I/O."""

from __future__ import annotations

import pytest

from bot.errors import BadInput
from bot.jobs.model import JobSpec, ReferenceInput
from bot.jobs.prepare import check


def spec(prompt: str = "a cat", count: int = 1, references: int = 0) -> JobSpec:
    refs = tuple(ReferenceInput(name=f"r{i}.png", data=b"x") for i in range(references))
    return JobSpec(1, 2, 3, prompt, count, "2K", "2K", refs)


async def test_more_than_fourteen_references_is_refused() -> None:
    with pytest.raises(BadInput, match="At most 14 reference images"):
        check(spec(references=15))


async def test_references_plus_count_over_fifteen_is_refused() -> None:
    with pytest.raises(BadInput, match=r"at most 15 \(10 references \+ 6 images\)"):
        check(spec(count=6, references=10))


async def test_prompt_of_control_characters_only_is_empty() -> None:
    with pytest.raises(BadInput, match="prompt is empty"):
        check(spec(prompt="\x00\x07\u200b\u2066 \n"))

"""The instant checks of a spec: refusals that need no I/O."""

from __future__ import annotations

import pytest

from bot.errors import BadInput
from bot.imagegen.catalog import Catalog
from bot.jobs.model import JobSpec, ReferenceInput
from bot.jobs.prepare import check, request_for
from bot.quota_checks import blocked_word
from bot.settings import Settings
from bot.textclean import api_text

CATALOG = Catalog(["doubao-seedream-4-0-250828"], "doubao-seedream-4-0-250828")


def spec(prompt: str = "a cat", count: int = 1, references: int = 0) -> JobSpec:
    refs = tuple(ReferenceInput(name=f"r{i}.png", data=b"x") for i in range(references))
    return JobSpec(1, 2, 3, prompt, count, "2K", "2K", refs)


async def test_more_references_than_the_model_takes_is_refused() -> None:
    with pytest.raises(BadInput, match=r"Seedream 4\.0 takes at most 10 reference images; you gave 11"):
        check(spec(references=11), CATALOG)


async def test_references_plus_count_over_fifteen_is_refused() -> None:
    with pytest.raises(BadInput, match=r"at most 15 \(10 references \+ 6 images\)"):
        check(spec(count=6, references=10), CATALOG)


async def test_prompt_of_control_characters_only_is_empty() -> None:
    with pytest.raises(BadInput, match="prompt is empty"):
        check(spec(prompt="\x00\x07\u200b\u2066 \n"), CATALOG)


@pytest.mark.parametrize(
    "blank",
    ["\u3164", "\u115f\u1160", "\uffa0 \uffa0", "\u2800\u2800", "\u200e\u200f\u061c", "\ufe0f\u034f", "\u3000\u00a0"],
)
async def test_prompt_that_renders_blank_is_empty(blank: str) -> None:
    with pytest.raises(BadInput, match="prompt is empty"):
        check(spec(prompt=blank), CATALOG)


@pytest.mark.parametrize(
    "prompt",
    [
        "a sp\u200diders nest",  # zero-width joiner
        "a spi\u00adders nest",  # soft hyphen
        "a ｓｐｉｄｅｒｓ nest",  # full-width letters (NFKC)
        "a spi\u2060ders nest",  # word joiner
        "a spi\U000e0020ders nest",  # a tag character (format)
        "a spi\ufe0fders nest",  # variation selector
        "giant  hairy\u3000spiders",  # a phrase across a double and an ideographic space
    ],
)
async def test_blocked_words_see_the_text_the_api_receives(prompt: str) -> None:
    words = ("spiders", "hairy spiders")
    assert blocked_word(words, prompt) is not None
    assert blocked_word(words, api_text(prompt)) is not None


async def test_api_request_carries_the_normalized_prompt() -> None:
    settings = Settings(_env_file=None, discord_token="t" * 8, image_api_key="k" * 8)  # type: ignore[call-arg]
    request = request_for(settings, spec(prompt="two  ｃａｔｓ\u200b\u00ad on\u3164a mat "), ())
    assert request.prompt == "two cats on a mat"

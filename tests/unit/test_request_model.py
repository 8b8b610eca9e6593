"""GenerationRequest validation and the wire payload."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.imagegen.catalog import ASPECT_SIZES, size_for
from bot.imagegen.models import GenerationRequest, check_size, states_count, with_count


def request(**overrides: object) -> GenerationRequest:
    values: dict[str, object] = {"model": "doubao-seedream-4-0-250828", "prompt": "a red fox"}
    values.update(overrides)
    return GenerationRequest(**values)  # type: ignore[arg-type]


def test_every_preset_size_passes_the_contract_rules() -> None:
    for aspect, sizes in ASPECT_SIZES.items():
        for resolution, size in sizes.items():
            assert check_size(size) == size, (aspect, resolution)
            assert size_for(resolution, aspect) == size


@pytest.mark.parametrize("size", ["800x800", "5000x5000", "100x2000", "4096x100", "big", "2k", "1024*1024"])
def test_invalid_sizes_are_rejected(size: str) -> None:
    with pytest.raises(ValidationError):
        request(size=size)


@pytest.mark.parametrize("size", ["1K", "2K", "4K", "1600x600", "1280x720", "4096x4096"])
def test_valid_sizes_are_accepted(size: str) -> None:
    assert request(size=size).size == size


def test_blank_and_oversized_prompts_are_rejected() -> None:
    with pytest.raises(ValidationError):
        request(prompt="   ")
    with pytest.raises(ValidationError):
        request(prompt="x" * 4001)


def test_fourteen_references_is_the_most() -> None:
    request(references=("data:image/png;base64,AA==",) * 14)
    with pytest.raises(ValidationError):
        request(references=("data:image/png;base64,AA==",) * 15, count=1)


def test_references_plus_images_at_most_fifteen() -> None:
    request(references=("u",) * 5, count=10)
    with pytest.raises(ValidationError, match="at most 15"):
        request(references=("u",) * 5, count=11)


def test_count_outside_one_to_fifteen_is_rejected() -> None:
    for count in (0, 16):
        with pytest.raises(ValidationError):
            request(count=count)


def test_single_image_payload_sends_explicit_defaults() -> None:
    body = request(size="2K", watermark=False, stream=True).payload()
    assert body == {
        "model": "doubao-seedream-4-0-250828",
        "prompt": "a red fox",
        "size": "2K",
        "response_format": "url",
        "watermark": False,
        "stream": True,
        "sequential_image_generation": "disabled",
    }


def test_set_payload_uses_auto_mode_and_states_the_count() -> None:
    body = request(count=4, references=("a", "b")).payload()
    assert body["sequential_image_generation"] == "auto"
    assert body["sequential_image_generation_options"] == {"max_images": 4}
    assert body["image"] == ["a", "b"]
    assert "4 images" in body["prompt"] and body["prompt"].endswith("a red fox")


def test_single_reference_is_sent_as_a_string() -> None:
    assert request(references=("only",)).payload()["image"] == "only"


def test_count_already_in_the_prompt_is_left_alone() -> None:
    assert states_count("six pictures of a cat in a row")
    assert states_count("a comic in 4 panels")
    assert not states_count("a cat with 4 legs")
    assert not states_count("a 4K wallpaper")
    assert with_count("three pictures of a dog", 3) == "three pictures of a dog"
    assert with_count("a dog", 1) == "a dog"
    assert with_count("a dog", 3).startswith("Generate a set of 3 images.")


def test_optimize_mode_is_only_sent_when_set() -> None:
    assert "optimize_prompt_options" not in request().payload()
    assert request(optimize_prompt_mode="fast").payload()["optimize_prompt_options"] == {"mode": "fast"}

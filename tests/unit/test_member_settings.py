"""How a new job's options come from what the member typed, their /settings defaults and the server's limits."""

from __future__ import annotations

import dataclasses

from bot.imagegen.catalog import SEEDREAM_4_0, SEEDREAM_4_5
from bot.member_settings import FROM_PROMPT, choose, valid
from bot.quotas import Limits
from bot.store.member_defaults import MemberDefaults

LIMITS = Limits(
    member_daily_images=100,
    server_daily_images=1000,
    concurrent_jobs=2,
    cooldown_seconds=0,
    max_set_size=15,
    allow_4k=True,
    default_resolution="2K",
    watermark=False,
    default_model=SEEDREAM_4_0.id,
)
NOTHING = {"resolution": None, "aspect": None, "count": None}


def test_without_defaults_a_job_is_one_image_at_the_server_resolution_with_the_prompts_ratio() -> None:
    chosen = choose(MemberDefaults(), LIMITS, SEEDREAM_4_0, **NOTHING)
    assert (chosen.resolution, chosen.aspect, chosen.count, chosen.notes) == ("2K", None, 1, ())


def test_empty_options_take_the_members_defaults() -> None:
    chosen = choose(MemberDefaults("4K", "16:9", 4), LIMITS, SEEDREAM_4_0, **NOTHING)
    assert (chosen.resolution, chosen.aspect, chosen.count, chosen.notes) == ("4K", "16:9", 4, ())


def test_what_the_member_typed_wins_over_their_defaults() -> None:
    chosen = choose(MemberDefaults("4K", "16:9", 4), LIMITS, SEEDREAM_4_0, resolution="1K", aspect="1:1", count=2)
    assert (chosen.resolution, chosen.aspect, chosen.count) == ("1K", "1:1", 2)
    assert (
        choose(MemberDefaults(aspect="16:9"), LIMITS, SEEDREAM_4_0, **NOTHING | {"aspect": FROM_PROMPT}).aspect is None
    )


def test_a_4k_default_on_a_server_without_4k_uses_the_servers_resolution_and_says_so() -> None:
    no_4k = dataclasses.replace(LIMITS, allow_4k=False, default_resolution="1K")
    chosen = choose(MemberDefaults(resolution="4K"), no_4k, SEEDREAM_4_0, **NOTHING)
    assert chosen.resolution == "1K"
    assert chosen.notes == ("ℹ️ Your default resolution 4K is not allowed on this server, so this uses 1K.",)
    assert (
        choose(MemberDefaults(), no_4k, SEEDREAM_4_0, **NOTHING | {"resolution": "4K"}).resolution == "4K"
    )  # typed: admission


def test_a_default_set_larger_than_allowed_is_cut_to_what_fits_and_says_so() -> None:
    small = dataclasses.replace(LIMITS, max_set_size=4)
    chosen = choose(MemberDefaults(count=10), small, SEEDREAM_4_0, **NOTHING)
    assert chosen.count == 4 and "this server's limit (4)" in chosen.notes[0]
    with_references = choose(MemberDefaults(count=15), LIMITS, SEEDREAM_4_0, **NOTHING, references=3)
    assert with_references.count == 12 and "what fits with your reference images (12)" in with_references.notes[0]


def test_defaults_no_longer_offered_are_dropped() -> None:
    assert valid(MemberDefaults("8K", "5:4", 99, "m")) == MemberDefaults(model="m")


def test_a_default_resolution_the_model_does_not_make_becomes_the_nearest_it_does() -> None:
    chosen = choose(MemberDefaults(resolution="1K"), LIMITS, SEEDREAM_4_5, **NOTHING)
    assert (chosen.model, chosen.resolution) == (SEEDREAM_4_5.id, "2K")
    typed = choose(MemberDefaults(), LIMITS, SEEDREAM_4_5, **NOTHING | {"resolution": "1K"})
    assert typed.resolution == "1K"  # what the member typed is checked (and refused clearly) at admission

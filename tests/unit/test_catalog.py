"""The model catalog: each model's table, the size presets, unknown ids, and the checks and requests built from it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic_settings import SettingsError

from bot.errors import BadInput
from bot.imagegen.catalog import ASPECT_SIZES, BUILT_IN, Catalog, resolution_of
from bot.jobs.model import JobSpec, ReferenceInput
from bot.jobs.prepare import check, request_for
from bot.settings import Settings
from bot.startup import describe_settings_error
from tests.fakes.image_api_models import KEYWORD_SIZES, RULES

V40, V45, V50 = "doubao-seedream-4-0-250828", "doubao-seedream-4-5-251128", "doubao-seedream-5-0-260128"
ALL = Catalog([V40, V45, V50], V40)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"discord_token": "t" * 8, "image_api_key": "k" * 8}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def spec(model: str | None = None, size: str = "2K", references: int = 0, **changes: Any) -> JobSpec:
    refs = tuple(ReferenceInput(name=f"r{i}.png", data=b"x") for i in range(references))
    return JobSpec(1, 2, 3, "a cat", changes.pop("count", 1), size, size, refs, model=model, **changes)


@pytest.mark.parametrize("model", BUILT_IN, ids=lambda m: m.name)
def test_every_preset_of_a_model_is_one_the_api_takes(model: Any) -> None:
    """Checked against the fake API's own table (written from the contract), not only against the bot's."""
    for alias in model.aliases:
        assert ALL.get(alias).name == model.name, alias
        rules = RULES[alias]
        assert set(model.resolutions) == set(rules.keywords), alias
        assert (model.min_pixels, model.max_pixels) == (rules.min_pixels, rules.max_pixels)
    for resolution in model.resolutions:
        assert model.size_problem(resolution) is None
        for aspect, sizes in ASPECT_SIZES.items():
            size = sizes[resolution]
            width, height = (int(side) for side in size.split("x"))
            assert model.size_problem(size) is None, (model.name, size)
            assert model.min_pixels <= width * height <= model.max_pixels, (model.name, size)
            assert (width, height) == KEYWORD_SIZES[aspect][resolution]
            assert resolution_of(size) == resolution


def test_models_refuse_the_presets_they_do_not_make() -> None:
    v45, v50 = ALL.get(V45), ALL.get(V50)
    assert v45.size_problem("1K") == "Seedream 4.5 makes 2K or 4K images, not 1K."
    assert v45.size_problem(ASPECT_SIZES["16:9"]["1K"]) == "Seedream 4.5 makes 2K or 4K images, not 1K."
    assert v50.size_problem("4K") == "Seedream 5.0 Lite makes 2K or 3K images, not 4K."
    assert ALL.get(V40).size_problem("3K") == "Seedream 4.0 makes 1K, 2K, or 4K images, not 3K."
    assert "pixels in total" in (v45.size_problem("1600x900") or "")
    assert "pixels in total" in (v50.size_problem("4000x3000") or "")
    assert ALL.get(V40).size_problem("1600x900") is None


def test_a_default_resolution_maps_to_the_nearest_the_model_makes() -> None:
    v40, v45, v50 = ALL.get(V40), ALL.get(V45), ALL.get(V50)
    assert [v45.nearest(r) for r in ("1K", "2K", "3K", "4K")] == ["2K", "2K", "2K", "4K"]  # a tie: the smaller
    assert [v50.nearest(r) for r in ("1K", "2K", "3K", "4K")] == ["2K", "2K", "3K", "3K"]
    assert [v40.nearest(r) for r in ("1K", "2K", "3K", "4K")] == ["1K", "2K", "2K", "4K"]


def test_each_model_has_its_own_capabilities() -> None:
    v40, v45, v50 = ALL.get(V40), ALL.get(V45), ALL.get(V50)
    assert (v40.max_references, v45.max_references, v50.max_references) == (10, 14, 14)
    assert (v40.price, v45.price, v50.price) == (0.03, 0.04, 0.035)
    assert "fast" in v40.prompt_modes and "fast" not in v45.prompt_modes + v50.prompt_modes
    assert (v40.output_formats, v45.output_formats, v50.output_formats) == ((), (), ("jpeg", "png"))
    assert (v40.tools, v45.tools, v50.tools) == ((), (), ("web_search",))
    assert all(m.sets and m.streaming for m in (v40, v45, v50))
    both = Catalog(["seedream-4-5-251128", "seedream-5-0-lite-260128"], "seedream-4-5-251128")
    assert [m.name for m in both.offered] == ["Seedream 4.5", "Seedream 5.0 Lite"]
    assert both.get("seedream-5-0-lite-260128").id == "seedream-5-0-lite-260128"  # the id it is sent by


def test_an_unknown_id_gets_the_rules_of_4_0() -> None:
    catalog = Catalog(["ep-20260101-abc", V45], "ep-20260101-abc")
    model = catalog.get("ep-20260101-abc")
    assert not model.known and model.name == "ep-20260101-abc" and catalog.unknown == ("ep-20260101-abc",)
    assert (model.resolutions, model.max_references, model.price) == (("1K", "2K", "4K"), 10, 0.03)


def test_prices_and_4_0_references_can_be_set() -> None:
    catalog = Catalog([V40, V45], V40, prices={V45: 0.5}, price=0.01, max_references_4_0=14)
    assert (catalog.get(V40).price, catalog.get(V45).price, catalog.get(V40).max_references) == (0.01, 0.5, 14)


def test_offered_models_are_found_by_name_or_id() -> None:
    assert ALL.find("Seedream 4.5") is ALL.find("4.5") is not None
    assert ALL.find("  seedream 5.0 lite ").id == V50  # type: ignore[union-attr]
    assert ALL.find("doubao-seedream-5-0-lite-260128").id == V50  # type: ignore[union-attr]
    assert ALL.find("Seedream 9") is None
    assert Catalog([V40], V40).find("4.5") is None  # not offered here


def test_settings_offer_image_model_by_default_and_check_image_models() -> None:
    assert [m.id for m in settings().catalog.offered] == [V40]
    chosen = settings(image_models=[V45, V50])
    assert chosen.image_model == V45 and chosen.catalog.default.id == V45
    assert settings(image_models=[V45, V50], image_model=V50).catalog.default.id == V50
    with pytest.raises(ValueError, match="must include IMAGE_MODEL"):
        settings(image_models=[V45], image_model=V40)
    with pytest.raises(ValueError, match=re.escape("lists Seedream 4.5 twice")):
        settings(image_models=[V45, "seedream-4-5-251128"])
    assert settings(price_per_image=0.1).catalog.get(V40).price == 0.1


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (spec(V45, "1K"), "Seedream 4.5 makes 2K or 4K images, not 1K. Choose 2K or 4K, or Seedream 4.0."),
        (spec(V50, "5504x3040"), "Seedream 5.0 Lite makes 2K or 3K images, not 4K. Choose 2K or 3K, or Seedream 4.0"),
        (spec(V40, "3K"), "Seedream 4.0 makes 1K, 2K, or 4K images, not 3K. Choose 1K, 2K, or 4K, or Seedream 5.0"),
        (spec(V40, output_format="png"), "Seedream 4.0 makes JPEG images only; PNG needs Seedream 5.0 Lite."),
        (spec(V45, web_search=True), "Seedream 4.5 cannot search the web; it needs Seedream 5.0 Lite."),
        (spec(V40, references=11), "Seedream 4.0 takes at most 10 reference images; you gave 11."),
        (spec(V45, references=15), "Seedream 4.5 takes at most 14 reference images; you gave 15."),
        (spec("seedream-4-5-251128"), "Seedream 4.5 is not offered here (any more). Choose Seedream 4.0, "),
    ],
)
def test_a_choice_the_model_cannot_do_is_refused_by_name(job: JobSpec, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        check(job, ALL)
    assert message in refused.value.message


def test_what_a_model_can_do_passes() -> None:
    assert check(spec(V50, "3K", references=14, output_format="png", web_search=True), ALL).id == V50
    assert check(spec(V45, "4K", references=14), ALL).id == V45
    assert check(spec(None, "1K"), ALL).id == V40  # no model: IMAGE_MODEL


def test_requests_carry_only_the_fields_their_model_has() -> None:
    config = settings(image_models=[V40, V45, V50], optimize_prompt_mode="fast")
    v40 = request_for(config, spec(V40), ()).payload()
    v45 = request_for(config, spec(V45), ()).payload()
    v50 = request_for(config, spec(V50, output_format="png", web_search=True), ()).payload()
    assert v40["model"] == V40 and v40["optimize_prompt_options"] == {"mode": "fast"}
    assert "output_format" not in v40 and "tools" not in v40
    assert v45["model"] == V45 and "optimize_prompt_options" not in v45 and "output_format" not in v45
    assert (v50["output_format"], v50["tools"]) == ("png", [{"type": "web_search"}])
    assert request_for(config, spec(V50), ()).payload()["output_format"] == "jpeg"  # sent explicitly
    assert "tools" not in request_for(config, spec(V50), ()).payload()


def test_malformed_json_model_settings_get_a_line_with_an_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGE_MODELS", "doubao-seedream-4-5-251128")  # not a JSON list
    with pytest.raises(SettingsError) as raised:
        settings()
    line = describe_settings_error(raised.value)
    assert line.startswith("IMAGE_MODELS: is not valid JSON; write a JSON list") and "doubao-seedream" in line
    monkeypatch.setenv("IMAGE_MODELS", '["doubao-seedream-4-5-251128"]')
    monkeypatch.setenv("MODEL_PRICES", "{4.5: 0.04}")
    with pytest.raises(SettingsError) as raised:
        settings()
    assert describe_settings_error(raised.value).startswith("MODEL_PRICES: is not valid JSON; write a JSON object")
    monkeypatch.setenv("MODEL_PRICES", '{"doubao-seedream-4-5-251128": 0.5}')
    assert settings().catalog.get("doubao-seedream-4-5-251128").price == 0.5

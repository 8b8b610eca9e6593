"""What each Seedream model accepts, as the fake image API enforces it (shared/seedream-api.md §2.2 and §8).

Written from the contract, not from the bot's own table (bot/imagegen/catalog.py): a fake that borrowed the
bot's rules would agree with any mistake in them. Assumptions where the contract is open:
- 4.0 takes at most 10 reference images (the model card); `FakeImageApi.references_4_0 = 14` models an account
  where the generic API page's 14 holds.
- 5.0 Lite has no 4K (sources disagree; most say 2K/3K) and refuses the `fast` prompt mode.
- `output_format` and `tools` are refused by models that do not have them, as unknown parameters are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelRules:
    """One model's request rules."""

    name: str
    keywords: tuple[str, ...]
    min_pixels: int
    max_pixels: int
    max_references: int
    prompt_modes: tuple[str, ...] = ("standard",)
    output_formats: tuple[str, ...] = ()  # () = JPEG only; `output_format` is refused
    tools: tuple[str, ...] = ()  # () = `tools` is refused


V4_0 = ModelRules("4.0", ("1K", "2K", "4K"), 921_600, 16_777_216, 10, prompt_modes=("standard", "fast"))
V4_5 = ModelRules("4.5", ("2K", "4K"), 3_686_400, 16_777_216, 14)
V5_0_LITE = ModelRules(
    "5.0-lite", ("2K", "3K"), 3_686_400, 10_404_496, 14, output_formats=("png", "jpeg"), tools=("web_search",)
)

# Every id the fake knows, Volcengine Ark and BytePlus spellings; a FakeImageApi serves the ones it was given.
RULES: dict[str, ModelRules] = {
    "doubao-seedream-4-0-250828": V4_0,
    "seedream-4-0-250828": V4_0,
    "doubao-seedream-4-5-251128": V4_5,
    "seedream-4-5-251128": V4_5,
    "doubao-seedream-5-0-260128": V5_0_LITE,
    "doubao-seedream-5-0-lite-260128": V5_0_LITE,
    "seedream-5-0-260128": V5_0_LITE,
    "seedream-5-0-lite-260128": V5_0_LITE,
}
ARK_MODELS = tuple(model_id for model_id in RULES if model_id.startswith("doubao-"))

# Ratio -> keyword -> the W x H the model makes for it (contract §2.2; 3K from BytePlus's 5.0 Lite table).
KEYWORD_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "1:1": {"1K": (1024, 1024), "2K": (2048, 2048), "3K": (3072, 3072), "4K": (4096, 4096)},
    "4:3": {"1K": (1152, 864), "2K": (2304, 1728), "3K": (3456, 2592), "4K": (4704, 3520)},
    "3:4": {"1K": (864, 1152), "2K": (1728, 2304), "3K": (2592, 3456), "4K": (3520, 4704)},
    "16:9": {"1K": (1280, 720), "2K": (2848, 1600), "3K": (4096, 2304), "4K": (5504, 3040)},
    "9:16": {"1K": (720, 1280), "2K": (1600, 2848), "3K": (2304, 4096), "4K": (3040, 5504)},
    "3:2": {"1K": (1248, 832), "2K": (2496, 1664), "3K": (3744, 2496), "4K": (4992, 3328)},
    "2:3": {"1K": (832, 1248), "2K": (1664, 2496), "3K": (2496, 3744), "4K": (3328, 4992)},
    "21:9": {"1K": (1512, 648), "2K": (3136, 1344), "3K": (4704, 2016), "4K": (6240, 2656)},
}

"""The Seedream models the bot knows: one capability table per model, the size presets, and the configured catalog.

Each `Model` is what one model can do (shared/seedream-api.md §2.2 and §8): sizes, references, sets and streaming,
output formats, prompt-optimisation modes, tools and the price of an image. A model is known by every id it answers
to: Volcengine Ark's `doubao-seedream-…`, BytePlus ModelArk's `seedream-…` and aliases. An id the bot does not know
(an `ep-…` endpoint, a newer model) gets Seedream 4.0's rules, the most permissive ones that are certain.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.i18n import _, number
from bot.i18n import either as one_of

RESOLUTIONS = ("1K", "2K", "3K", "4K")  # every size keyword, smallest first
# Pixel sizes for each aspect ratio and resolution keyword: 1K/2K/4K as in contract §2.2, 3K as BytePlus documents
# for 5.0 Lite. Every size is valid for every model offering its resolution (tests/unit/test_catalog.py checks it).
ASPECT_SIZES: dict[str, dict[str, str]] = {
    "1:1": {"1K": "1024x1024", "2K": "2048x2048", "3K": "3072x3072", "4K": "4096x4096"},
    "4:3": {"1K": "1152x864", "2K": "2304x1728", "3K": "3456x2592", "4K": "4704x3520"},
    "3:4": {"1K": "864x1152", "2K": "1728x2304", "3K": "2592x3456", "4K": "3520x4704"},
    "16:9": {"1K": "1280x720", "2K": "2848x1600", "3K": "4096x2304", "4K": "5504x3040"},
    "9:16": {"1K": "720x1280", "2K": "1600x2848", "3K": "2304x4096", "4K": "3040x5504"},
    "3:2": {"1K": "1248x832", "2K": "2496x1664", "3K": "3744x2496", "4K": "4992x3328"},
    "2:3": {"1K": "832x1248", "2K": "1664x2496", "3K": "2496x3744", "4K": "3328x4992"},
    "21:9": {"1K": "1512x648", "2K": "3136x1344", "3K": "4704x2016", "4K": "6240x2656"},
}
_SIZE_RE = re.compile(r"^(\d{2,5})x(\d{2,5})$")


@dataclass(frozen=True, slots=True)
class Model:
    """What one model can do, under the id this bot sends it by."""

    name: str  # friendly name, as members see it
    id: str  # the id sent to the API
    aliases: tuple[str, ...]  # every id the model answers to
    resolutions: tuple[str, ...]  # size keywords, smallest first
    min_pixels: int
    max_pixels: int
    max_references: int
    price: float  # per image, in the owner's currency
    max_aspect: float = 16.0
    sets: bool = True
    streaming: bool = True
    output_formats: tuple[str, ...] = ()  # () = JPEG only, and `output_format` must not be sent
    prompt_modes: tuple[str, ...] = ("standard",)
    tools: tuple[str, ...] = ()  # e.g. "web_search"
    known: bool = True

    def nearest(self, resolution: str) -> str:
        """The model's resolution closest to `resolution` (the smaller one on a tie): for defaults, never refused."""
        if resolution in self.resolutions or resolution not in RESOLUTIONS:
            return resolution if resolution in self.resolutions else self.resolutions[0]
        rank = RESOLUTIONS.index(resolution)
        return min(self.resolutions, key=lambda r: (abs(RESOLUTIONS.index(r) - rank), RESOLUTIONS.index(r)))

    def size_problem(self, size: str) -> str | None:
        """Why this model cannot make `size` (a keyword or WIDTHxHEIGHT), in plain words (the current language);
        None when it can."""
        resolution = resolution_of(size)
        if resolution is not None and resolution not in self.resolutions:
            return _("{model} makes {resolutions} images, not {resolution}.").format(
                model=self.name, resolutions=one_of(self.resolutions), resolution=resolution
            )
        if resolution is not None:
            return None
        match = _SIZE_RE.match(size)
        if match is None:
            # Translators: keep WIDTHxHEIGHT as it is (what to type, e.g. 2048x1536).
            return _("The size must be {resolutions}, or WIDTHxHEIGHT.").format(resolutions=one_of(self.resolutions))
        width, height = int(match[1]), int(match[2])
        if not self.min_pixels <= width * height <= self.max_pixels:
            return _("{size} is outside what {model} can make: {least} to {most} pixels in total.").format(
                size=size, model=self.name, least=number(self.min_pixels), most=number(self.max_pixels)
            )
        if not 1 / self.max_aspect <= width / height <= self.max_aspect:
            return _("{size} is too long and thin for {model}: the ratio can be at most {ratio}:1.").format(
                size=size, model=self.name, ratio=number(self.max_aspect)
            )
        return None


SEEDREAM_4_0 = Model(
    name="Seedream 4.0",
    id="doubao-seedream-4-0-250828",
    aliases=("doubao-seedream-4-0-250828", "seedream-4-0-250828"),
    resolutions=("1K", "2K", "4K"),
    min_pixels=921_600,
    max_pixels=16_777_216,
    max_references=10,  # the model card; the generic API page says 14 (SEEDREAM_4_0_MAX_REFERENCES)
    price=0.03,
    prompt_modes=("standard", "fast"),
)
SEEDREAM_4_5 = Model(
    name="Seedream 4.5",
    id="doubao-seedream-4-5-251128",
    aliases=("doubao-seedream-4-5-251128", "seedream-4-5-251128"),
    resolutions=("2K", "4K"),
    min_pixels=3_686_400,  # 2560x1440: no 1K sizes
    max_pixels=16_777_216,
    max_references=14,
    price=0.04,
)
SEEDREAM_5_0_LITE = Model(
    name="Seedream 5.0 Lite",
    id="doubao-seedream-5-0-260128",
    aliases=(
        "doubao-seedream-5-0-260128",
        "doubao-seedream-5-0-lite-260128",
        "seedream-5-0-260128",
        "seedream-5-0-lite-260128",
    ),
    resolutions=("2K", "3K"),
    min_pixels=3_686_400,
    max_pixels=10_404_496,
    max_references=14,
    price=0.035,
    output_formats=("jpeg", "png"),
    tools=("web_search",),
)
BUILT_IN = (SEEDREAM_4_0, SEEDREAM_4_5, SEEDREAM_5_0_LITE)
_BY_ID = {alias: model for model in BUILT_IN for alias in model.aliases}


class Catalog:
    """The models this bot offers (IMAGE_MODELS), its default (IMAGE_MODEL), and the rules of any model id."""

    def __init__(
        self,
        ids: Sequence[str],
        default: str,
        *,
        prices: Mapping[str, float] | None = None,
        price: float | None = None,
        max_references_4_0: int = SEEDREAM_4_0.max_references,
    ) -> None:
        self._prices = dict(prices or {})
        self._price = price
        self._max_references_4_0 = max_references_4_0
        self._rules: dict[str, Model] = {}  # by model id, as `get` made them (every job asks several times)
        self.offered = tuple(self.get(model_id) for model_id in dict.fromkeys(ids))
        names = [model.name for model in self.offered]
        twice = next((name for name in names if names.count(name) > 1), None)
        if twice is not None:
            raise ValueError(f"lists {twice} twice (under two ids); keep one")
        if default not in {model.id for model in self.offered}:
            raise ValueError(f"must include IMAGE_MODEL ({default})")
        self.default = self.get(default)

    def get(self, model_id: str | None) -> Model:
        """The rules of a model id (None: the default model); an unknown id gets Seedream 4.0's rules."""
        if model_id is None:
            return self.default
        known = self._rules.get(model_id)
        if known is not None:
            return known
        if len(self._rules) < 1000:  # ids come from members' input too: not an unbounded cache
            known = self._rules[model_id] = self._rules_of(model_id)
            return known
        return self._rules_of(model_id)

    def _rules_of(self, model_id: str) -> Model:
        base = _BY_ID.get(model_id)
        model = base or dataclasses.replace(SEEDREAM_4_0, name=model_id, aliases=(model_id,), known=False)
        if base is None or base is SEEDREAM_4_0:
            model = dataclasses.replace(model, max_references=self._max_references_4_0)
        price = self._prices.get(model_id, self._price)
        return dataclasses.replace(model, id=model_id, price=model.price if price is None else price)

    def offers(self, model_id: str) -> bool:
        """Whether members may choose this model id here."""
        return any(model.id == model_id for model in self.offered)

    def label(self, model_id: str | None) -> str | None:
        """The model's name for a result card when members can choose between models (None: only one here)."""
        return self.get(model_id).name if len(self.offered) > 1 else None

    def find(self, text: str) -> Model | None:
        """An offered model by id, alias or friendly name ("Seedream 4.5", "4.5"), ignoring case."""
        wanted = " ".join(text.split()).casefold()
        for model in self.offered:
            names = {model.id, *model.aliases, model.name, model.name.removeprefix("Seedream ")}
            if wanted in {name.casefold() for name in names}:
                return model
        return None

    def with_format(self, output_format: str) -> list[Model]:
        """Offered models that can output `output_format`."""
        return [model for model in self.offered if output_format in model.output_formats]

    def with_tool(self, tool: str) -> list[Model]:
        """Offered models that have the tool (e.g. web_search)."""
        return [model for model in self.offered if tool in model.tools]

    @property
    def resolutions(self) -> tuple[str, ...]:
        """Every resolution some offered model makes, smallest first."""
        return tuple(r for r in RESOLUTIONS if any(r in model.resolutions for model in self.offered))

    @property
    def unknown(self) -> tuple[str, ...]:
        """Offered ids the bot does not know (they get Seedream 4.0's rules)."""
        return tuple(model.id for model in self.offered if not model.known)


def either(values: Sequence[str]) -> str:
    """`2K or 4K`, `1K, 2K or 4K`."""
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def size_for(resolution: str, aspect: str | None) -> str:
    """The `size` value for a resolution keyword and an optional aspect ratio."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}")
    if aspect is None:
        return resolution
    return ASPECT_SIZES[aspect][resolution]


def resolution_of(size: str) -> str | None:
    """The resolution keyword a `size` value stands for (None for a custom WxH)."""
    if size in RESOLUTIONS:
        return size
    for sizes in ASPECT_SIZES.values():
        for resolution, value in sizes.items():
            if value == size:
                return resolution
    return None

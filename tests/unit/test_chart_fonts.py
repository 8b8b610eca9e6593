"""Charts draw every script: Chinese, Japanese, Korean and Cyrillic names come out as glyphs, not missing-glyph
boxes (the font is Debian's fonts-noto-cjk: `apt-get install fonts-noto-cjk`, as the Dockerfile does)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw

from bot import charts
from bot.i18n import speaking

NAMES = {"Chinese": "李明", "Japanese": "さくら", "Korean": "김민준", "Cyrillic": "Иван"}
MISSING = "\U000f0000"  # a private-use code point no font draws: its glyph is the font's missing-glyph box


def _mask(text: str, size: int = 20) -> bytes:
    image = Image.new("L", (2 * size, 2 * size))
    ImageDraw.Draw(image).text((size // 2, size // 2), text, font=charts._font(size), fill=255)
    return image.tobytes()


@pytest.mark.parametrize("script", sorted(NAMES))
def test_every_script_has_its_own_glyphs(script: str) -> None:
    box = _mask(MISSING)
    for character in NAMES[script]:
        drawn = _mask(character)
        assert any(drawn), f"{character!r} draws nothing"
        assert drawn != box, f"{character!r} ({script}) is drawn as the missing-glyph box: is fonts-noto-cjk installed?"


def test_a_leaderboard_chart_shows_the_names_not_boxes() -> None:
    def chart(names: list[str]) -> Image.Image:
        rows = [(name, 10 - i) for i, name in enumerate(names)]
        return Image.open(io.BytesIO(charts.top_chart("Top", rows, "images"))).convert("RGB")

    names = list(NAMES.values())
    boxes = [MISSING * len(name) for name in names]
    assert ImageChops.difference(chart(names), chart(boxes)).getbbox() is not None


def test_the_han_face_follows_the_language() -> None:
    with speaking("zh-CN"):
        chinese = charts._font(20)
    with speaking("ja"):
        japanese = charts._font(20)
    assert chinese.getname()[0].endswith("SC") and japanese.getname()[0].endswith("JP")  # type: ignore[union-attr]

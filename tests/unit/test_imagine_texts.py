"""Texts of /imagine and blending that the catalogs cannot check: numbers written into translatable literals, and
image refusals that cross a process boundary."""

from __future__ import annotations

import pickle

from bot.i18n import speaking
from bot.imagegen.models import MAX_TOTAL_IMAGES
from bot.imaging import UNREADABLE, ImageRefused
from cogs.blend._modal import COUNT
from cogs.imagine import Imagine


def test_the_numbers_in_the_option_texts_are_the_limits() -> None:
    count = Imagine.imagine._params["count"]
    assert f"(1-{MAX_TOTAL_IMAGES})" in str(count.description)
    assert f"(1-{MAX_TOTAL_IMAGES - 1})" in COUNT, "with at least one reference a blend makes at most 14"


def test_an_image_refusal_from_a_decoder_process_is_written_again_in_the_language_of_the_moment() -> None:
    refused = ImageRefused(UNREADABLE, "x.png")
    assert refused.message == "`x.png` is not a readable image (PNG, JPEG, WebP, GIF, BMP or TIFF)."
    back = pickle.loads(pickle.dumps(refused))  # how the process pool returns it
    assert isinstance(back, ImageRefused) and back.message == refused.message
    with speaking("de"):
        again = back.again()
    assert again.message == "`x.png` ist kein lesbares Bild (PNG, JPEG, WebP, GIF, BMP oder TIFF)."
    assert again.code == "bad_attachment"

"""The status line's words: elapsed time and the estimate in one pair of brackets."""

from __future__ import annotations

import time

from bot.i18n import speaking
from bot.jobs.model import Progress
from bot.presentation.text import duration, page_header, progress_line, size_label, size_text, time_left


def progress(**values: object) -> Progress:
    return Progress(job_id=1, requested=4, started=time.monotonic() - 35, **values)  # type: ignore[arg-type]


def test_the_estimate_rides_with_the_elapsed_time() -> None:
    assert progress_line(progress(delivered=2, expected=75)) == "⏳ 2 of 4 images… (35s · about 40s left)"
    assert progress_line(progress(delivered=1, failed=1, expected=215)) == (
        "⏳ 1 of 4 images, 1 failed… (35s · about 3 min left)"
    )


def test_no_estimate_without_history_or_once_it_is_used_up() -> None:
    assert progress_line(progress()) == "⏳ Generating 4 images… (35s)"
    assert progress_line(progress(delivered=3, expected=30)) == "⏳ 3 of 4 images… (35s)"
    assert progress_line(progress(queue_position=3, expected=100)) == "⏳ #3 in queue… (35s)"


def test_time_left_is_never_to_the_second() -> None:
    assert [time_left(s) for s in (3, 12, 41, 58, 61, 150)] == [
        "a few seconds left",
        "about 10s left",
        "about 40s left",
        "about 1 min left",
        "about 1 min left",
        "about 2 min left",
    ]


def test_elapsed_times_and_page_headers_in_the_jobs_language() -> None:
    assert [duration(s) for s in (0, 35, 185)] == ["0s", "35s", "3m 5s"]
    with speaking("zh-CN"):
        assert [duration(35), duration(185)] == ["35秒", "3分钟5秒"]
        assert page_header("owls", 11, 12, 12) == "**owls** — 第 11–12 张，共 12 张"
    with speaking("ru"):
        assert duration(185) == "3 мин 5 с"
        assert page_header("owls", 11, 11, 11) == "**owls** — изображение 11 из 11"
        label = size_label("2K", None)  # stored with the job in English, shown in the language of the moment
        assert label == "2K · ratio from prompt" and size_text(label) == "2K · пропорции из запроса"
    assert [duration(185.4), duration(-2)] == ["3m 5s", "0s"]  # formatted once per language: never another's

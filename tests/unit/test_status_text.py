"""The status line's words: elapsed time and the estimate in one pair of brackets."""

from __future__ import annotations

import time

from bot.jobs.model import Progress
from bot.presentation.text import progress_line, time_left


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

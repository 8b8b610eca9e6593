"""A bot process sets its start-up heap aside: full collections no longer walk it (nor stop the event loop for it),
and the collector does not walk it over and over while it is being made."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.heap import pause_collector, resume_collector, set_aside_start_up_heap


class Loaded:
    """Something start-up made, that lives as long as the process (a module's table, a catalog)."""


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.disable()  # no automatic collection in between: what the test sees is set_aside_start_up_heap's doing
    try:
        yield
    finally:
        gc.unfreeze()  # this test process goes on collecting everything
        gc.enable()


def _tracked(thing: object) -> bool:
    return any(found is thing for found in gc.get_objects())


def test_what_lives_at_the_end_of_start_up_is_no_longer_walked_by_the_collector(thawed: None) -> None:
    start_up = [Loaded() for _ in range(3)]
    assert _tracked(start_up)

    set_aside_start_up_heap()

    assert gc.get_freeze_count() >= len(start_up)
    assert not _tracked(start_up) and not any(_tracked(thing) for thing in start_up)
    later = [Loaded()]
    assert _tracked(later)  # what the running bot makes is still collected


def test_the_collector_is_paused_while_the_bot_starts_and_runs_once_it_is_set_aside(thawed: None) -> None:
    gc.enable()
    pause_collector()
    assert not gc.isenabled()

    set_aside_start_up_heap()

    assert gc.isenabled()


def test_a_tool_resumes_collecting_without_setting_anything_aside(thawed: None) -> None:
    pause_collector()

    resume_collector()

    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_python_m_bot_running_a_tool_collects_as_usual() -> None:
    """`python -m bot usage export …` pauses the collector like the bot, and turns it back on for the tool."""
    script = """
import gc, bot.__main__ as entry, bot.cli
bot.cli.run_usage_command = lambda args: print("collecting" if gc.isenabled() else "paused") or 0
entry.main(["usage", "export", "--guild", "1", "--since", "2026-12-01", "--until", "2026-12-01"])
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "collecting", done.stderr

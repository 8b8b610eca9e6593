"""A bot process sets its start-up heap aside: full collections no longer walk it (nor stop the event loop for it)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.heap import set_aside_start_up_heap


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

    frozen = set_aside_start_up_heap()

    assert frozen >= len(start_up) and gc.get_freeze_count() == frozen
    assert not _tracked(start_up) and not any(_tracked(thing) for thing in start_up)
    later = [Loaded()]
    assert _tracked(later)  # what the running bot makes is still collected


def test_garbage_start_up_left_behind_is_collected_not_frozen(thawed: None) -> None:
    left_behind = Loaded()
    left_behind.itself = left_behind  # type: ignore[attr-defined]  # a cycle: only the collector frees it
    gone = weakref.ref(left_behind)
    del left_behind

    set_aside_start_up_heap()

    assert gone() is None  # frozen, it would have stayed for the life of the process

"""The start-up heap, out of the garbage collector's way.

A full collection (Python's generation 2) walks every object the collector tracks, and the event loop waits until
it is done. Most of a bot process's objects are made once at start-up and live as long as it does: modules,
classes, functions, translation catalogs, the command tree, SQLAlchemy's tables. Walked at every full collection,
they cost a quarter of a second each time on a small machine, and in a burst of commands the collector decides to
run one every few seconds: a dozen acknowledgements in a row then wait for it. Frozen (`gc.freeze`), they are
never walked again; the collector still runs, over what the running bot made since.

While they are being made, the collector is paused (`pause_collector`, the first thing `python -m bot` does):
otherwise it walks the growing heap dozens of times during the imports, about 0.2 s of CPU before the bot is
ready, only to find next to nothing to free.
"""

from __future__ import annotations

import gc


def pause_collector() -> None:
    """Stop automatic collections until start-up is done: `set_aside_start_up_heap` (the bot) or
    `resume_collector` (a command-line tool) turns them back on."""
    gc.disable()


def resume_collector() -> None:
    """Collect automatically again (a tool: its start-up heap is not worth setting aside)."""
    gc.enable()


def set_aside_start_up_heap() -> None:
    """Freeze every object alive now and collect automatically again; call once, when start-up is done and before
    the bot takes requests. (Counting them, `gc.get_freeze_count()`, walks them all: 20 ms.)

    Nothing is collected first: a full collection of the start-up heap would cost 0.1-0.2 s more before the bot is
    ready, to free what start-up threw away in cycles (about 2,000 objects, 0.5 MB: classes that attrs and
    `dataclass(slots=True)` rebuilt, enum conversions), which then stays for the life of the process. A frozen
    object that is not in such a cycle is still freed as soon as nothing refers to it.
    """
    gc.freeze()
    gc.enable()

"""The start-up heap, out of the garbage collector's way.

A full collection (Python's generation 2) walks every object the collector tracks, and the event loop waits until
it is done. Most of a bot process's objects are made once at start-up and live as long as it does: modules,
classes, functions, translation catalogs, the command tree, SQLAlchemy's tables. Walked at every full collection,
they cost a quarter of a second each time on a small machine, and in a burst of commands the collector decides to
run one every few seconds: a dozen acknowledgements in a row then wait for it. Frozen (`gc.freeze`), they are
never walked again; the collector still runs, over what the running bot made since.
"""

from __future__ import annotations

import gc


def set_aside_start_up_heap() -> int:
    """Collect what start-up left behind, then freeze every object alive now; call once, when start-up is done
    and before the bot takes requests (the collection itself takes a moment). Returns how many objects are frozen.

    A frozen object is still freed when nothing refers to it any more; only a cycle of frozen objects that became
    garbage stays (start-up's objects are not garbage, so this costs no memory in practice).
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()

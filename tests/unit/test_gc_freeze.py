"""The bot process moves what start-up built out of the garbage collector's view (full collections under load walk
only what was made since)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import gc
from bot.__main__ import freeze_startup_objects
assert gc.get_freeze_count() == 0
freeze_startup_objects()
print(gc.get_freeze_count())
"""


def test_the_objects_of_the_imports_are_frozen_before_the_bot_runs() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, check=True)
    assert int(done.stdout) > 50_000  # discord.py's, SQLAlchemy's and the bot's own objects

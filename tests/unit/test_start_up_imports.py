"""What `python -m bot` loads before READY: nothing it only needs later (READY within 1.5 s, issue 9).

Each of these took tens of milliseconds of a start-up that is mostly imports; they are imported (or read) where
they are used. Not a timing test: it checks what is loaded, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LATER = (
    "aiohttp.web",  # the metrics server (METRICS_PORT), bot/metrics.py
    "cryptography",  # servers' own API keys, sealed and opened by bot/keybox.py
    "prometheus_client",  # metrics
    "alembic",  # migrations, only when the database is behind (bot/store/migrate.py)
    "asyncpg",  # the PostgreSQL driver, when the database is PostgreSQL
    "sqlalchemy.dialects.postgresql",  # SQLAlchemy's PostgreSQL dialect, likewise (bot/store/schema.py)
)

# Everything a gateway process imports before it connects: the entry point, then what `run_bot` and `setup_hook`
# import (bot/cli.py, bot/client.py).
START_UP = """
import gc, importlib, json, sys
import bot.__main__
paused = not gc.isenabled()
import bot.cli, bot.client, bot.identify, bot.metrics, bot.services, bot.store
for name in bot.client.EXTENSIONS:
    importlib.import_module(name)
import babel.localedata
print(json.dumps({"paused": paused, "loaded": sorted(sys.modules), "cldr": sorted(babel.localedata._cache)}))
"""


def start_up() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", START_UP], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_start_up_imports_nothing_the_bot_needs_only_later() -> None:
    found = start_up()
    loaded = set(found["loaded"])  # type: ignore[call-overload]
    assert "discord" in loaded and "bot.client" in loaded  # the script did import the bot
    assert [name for name in LATER if name in loaded] == []
    assert found["cldr"] == []  # languages' CLDR data is read in a thread once READY (bot.i18n.warm)
    assert found["paused"] is True  # no garbage collection while the start-up heap is made (bot/heap.py)

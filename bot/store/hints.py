"""Hints for SQLite's query planner on a big job history (PostgreSQL plans well without them: unchanged there).

SQLite keeps one average per index (ANALYZE): at 10 M jobs it believes each status holds millions of rows, while
the unfinished ones are a few dozen; and it happily reads a whole index in order to save a sort.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def rare(term: Any, *, sqlite: bool) -> Any:
    """`term` is true for few rows (`unlikely(…)`): its index is worth using."""
    return sa.func.unlikely(term) if sqlite else term


def unindexed(column: Any, *, sqlite: bool) -> Any:
    """`column + 0`: no index on it is used, for filtering or for ordering a GROUP BY."""
    return column + 0 if sqlite else column

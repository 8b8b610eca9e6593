"""SQLite databases as the bot's old migration scheme left them (numbered .sql files, PRAGMA user_version)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

LEGACY_SQL = Path(__file__).parent / "data" / "legacy_sql"


def build(path: Path, version: int) -> None:
    """Apply the old .sql files up to `version`, the way the old store did."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        for script in sorted(LEGACY_SQL.glob("*.sql")):
            number = int(script.name[:4])
            if number <= version:
                db.executescript(f"BEGIN;\n{script.read_text()}\nPRAGMA user_version = {number};\nCOMMIT;")
    finally:
        db.close()


def execute(path: Path, sql: str, *rows: tuple[object, ...]) -> None:
    """Run one statement (once per row) and commit."""
    db = sqlite3.connect(path)
    try:
        db.executemany(sql, rows or [()])
        db.commit()
    finally:
        db.close()


def names(path: Path, kind: str) -> set[str]:
    """Names of the tables, indexes or triggers in an SQLite file."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%'", (kind,))
        return {row[0] for row in rows}
    finally:
        db.close()

"""The SQLite store: one file holding item history, source state, alert state and
the alert outbox. Each feature module declares its own tables through
`Store.ensure_schema`, so this module stays the one owner of the connection.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class Store:
    """A single SQLite connection in WAL mode, safe to use from one thread at a time
    (writes are serialised with a lock so workers and the UI cannot interleave)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.lock = threading.RLock()
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )

    def ensure_schema(self, name: str, version: int, ddl: str) -> None:
        """Create (or upgrade) the tables of one feature. `ddl` must be idempotent
        (CREATE ... IF NOT EXISTS) up to `version`."""
        with self.lock:
            row = self.conn.execute("SELECT version FROM schema_versions WHERE name = ?", (name,)).fetchone()
            if row is not None and row["version"] >= version:
                return
            self.conn.executescript(f"BEGIN;\n{ddl}\nCOMMIT;")
            self.conn.execute(
                "INSERT INTO schema_versions(name, version) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET version = excluded.version",
                (name, version),
            )

    def close(self) -> None:
        with self.lock:
            self.conn.close()

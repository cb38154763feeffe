"""A runtime that follows the store instead of fetching: each browser session of
`dashboard serve` runs one, while the server's one refresher fetches, evaluates the
alert rules and delivers (dashboard.serve). Ten open tabs are ten readers of one
SQLite file, not ten fetches of every source and ten deliveries of every alert.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from typing import Any

from dashboard.config import Config
from dashboard.core.merge import carry_over
from dashboard.runtime import Runtime, Snapshot, SourceState
from dashboard.store import SavedSource


class FollowerRuntime(Runtime):
    """`Runtime` whose `refresh` re-reads what the refresher stored: no fetch, no store
    write, no alert evaluation and no delivery (acknowledging still writes, when the
    session may act)."""

    follower = True

    def __init__(self, config: Config, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._read_lock = asyncio.Lock()
        self._read_version: int | None = None  # data_version of the last read
        self._saved: dict[str, SavedSource] = {}
        self._seen_open: set[str] | None = None  # open alert keys at the last read; None: none yet

    def store_version(self) -> int | None:
        """SQLite's `data_version`: it changes whenever another connection (the refresher,
        `dashboard check`, another session acknowledging) commits. None: unreadable."""
        try:
            row = self.store.conn.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0]) if row else None

    def store_changed(self) -> bool:
        version = self.store_version()
        return version is not None and version != self._read_version

    async def _read_store(self) -> dict[str, SavedSource]:
        """Every source's stored state, read once per change of the store."""
        async with self._read_lock:
            version = self.store_version()
            if version is None or version != self._read_version:
                try:
                    self._saved = await asyncio.to_thread(self.store.load_sources)
                    self._read_version = version
                    self.store_error = ""
                except (sqlite3.Error, ValueError) as exc:
                    self.store_error = f"无法读取存储 store unreadable: {exc}"
            return self._saved

    async def refresh(self, name: str) -> SourceState:
        """The source as the refresher last stored it (its last good items, its last error)."""
        state = self.states[name]
        saved = (await self._read_store()).get(name)
        if saved is None:
            return state  # not fetched by the refresher yet: `载入中…` stays
        state.ok, state.error = saved.ok, saved.error
        state.last_attempt, state.last_success = saved.last_attempt, saved.last_success
        state.failures = 1 if saved.ok is False else 0
        if saved.last_success is not None:
            # Unchanged items stay the same objects: evaluating and drawing skip them.
            state.items, _ = await asyncio.to_thread(carry_over, state.items, saved.items)
            state.warnings, state.as_of = saved.warnings, saved.as_of
            state.restored = False
        return state

    def evaluate_alerts(self, snap: Snapshot, now: datetime | None = None) -> Snapshot:
        """The refresher evaluates and delivers; a follower counts again what it reads, and
        the alerts open now that were not at its last read are `snap.fired` (the header's
        `新预警` line and the bell, as in the TUI). Those open when the tab opened are not new."""
        self._open_alerts = None
        try:
            open_now = {r.key: r for r in self.alerts.records(["open"])}
        except sqlite3.Error as exc:
            self.alert_error = f"无法读取预警 alerts unreadable: {exc}"
            return snap
        if self._seen_open is not None:
            snap.fired = [r for key, r in open_now.items() if key not in self._seen_open]
        self._seen_open = set(open_now)
        return snap

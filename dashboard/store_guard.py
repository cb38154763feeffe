"""The runtime's hold on its store: the file when it can be used, else a stand-in in
memory, so the dashboard always starts and shows its data; the file is tried again
on every cycle and swapped back in when it works (see `dashboard.store_health` for
the policy, `dashboard.alert_guard` for what happens to alerts meanwhile)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.store import Store
from dashboard.store_health import describe, is_corrupt, open_store, repair

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Swap:
    """A store that replaces the one in use; `lost_state`: its alert state is not the old one's."""

    store: Store
    lost_state: bool


class StoreGuard:
    def __init__(self, path: Path, store: Store | None = None) -> None:
        # A store handed in (tests, the bench) is reopened at its own path, not the config's.
        self.path = store.path if store is not None and not store.in_memory else path
        self.lock = threading.Lock()
        self.problem = ""  # why the store cannot be used or written now; "" when it can
        self.notes: list[str] = []  # what was done about it (a repair, a recreate), for the record
        self.standin = False  # `store` is a stand-in in memory, not the file
        self.write_failed = False  # the last write to the file failed (until a write succeeds)
        self._corrupt = False  # a read or write found the file damaged: repair on the next cycle
        self.lost_state = False  # the store in use was rebuilt without its alert state
        if store is not None:
            self.store = store
            return
        opened = open_store(path)
        self.notes += opened.notes
        self.lost_state = opened.repaired is not None and not opened.repaired.alert_state_intact
        if opened.store is None:
            self._stand_in(opened.problem)
        else:
            self.store = opened.store

    def _stand_in(self, problem: str) -> None:
        self.store = Store(":memory:")
        self.standin = True
        self.problem = problem
        log.warning("存储不可用 store unavailable: %s", problem)

    @property
    def ok(self) -> bool:
        return not self.problem

    def check(self) -> Swap | None:
        """Before a write cycle: try the file again when it was unavailable, rebuild it
        when it was found damaged, recreate it when it was deleted or replaced under us
        (SQLite would go on writing to the unlinked file without an error). Returns the
        store to use instead, if any."""
        with self.lock:
            if self.standin:
                opened = open_store(self.path)
                if opened.store is None:
                    self.problem = opened.problem
                    return None
                self.notes += opened.notes
                lost = opened.repaired is not None and not opened.repaired.alert_state_intact
                return self._swap(opened.store, "存储已恢复可用 store available again", lost_state=lost)
            if self._corrupt:
                try:
                    self.store.close()
                    report = repair(self.path)
                    store = Store(self.path)
                except (sqlite3.Error, OSError) as exc:
                    self._stand_in(f"存储文件损坏且无法修复 {self.path}: {describe(exc)}")
                    return Swap(self.store, lost_state=True)
                note = f"存储文件损坏，已备份为 {report.backup} 并重建：{report.summary()}"
                return self._swap(store, note, lost_state=not report.alert_state_intact)
            if self.store.replaced():
                self.store.close()
                # A WAL left by the lost file must not be replayed into the new one.
                if not self.path.exists():
                    for suffix in ("-wal", "-shm"):
                        self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
                try:
                    store = Store(self.path)
                except (sqlite3.Error, OSError) as exc:
                    self._stand_in(f"存储文件已被删除或替换，且无法新建 {self.path}: {describe(exc)}")
                    return Swap(self.store, lost_state=True)
                note = f"存储文件已被删除或替换，已新建 {self.path} store file was deleted or replaced: recreated"
                return self._swap(store, note, lost_state=True)
            return None

    def _swap(self, store: Store, note: str, *, lost_state: bool) -> Swap:
        log.warning("%s", note)
        self.notes.append(note)
        del self.notes[:-20]  # the newest only: a process left running for weeks
        self.store, self.standin, self._corrupt = store, False, False
        self.problem, self.write_failed = "", False
        return Swap(store, lost_state)

    def failed(self, exc: BaseException, what: str) -> str:
        """A read or write of the file failed: say so; a damaged file is repaired next cycle."""
        if isinstance(exc, sqlite3.Error) and is_corrupt(exc):
            self._corrupt = True
        self.write_failed = True
        self.problem = f"{what} {self.path}: {describe(exc)}"
        log.warning("存储不可用 store unavailable: %s", self.problem)
        return self.problem

    def succeeded(self) -> None:
        if not self.standin:
            self.problem, self.write_failed = "", False

    def writable(self) -> bool:
        """Whether a write to the file works now: after a failed write, one small write
        decides (an empty transaction writes nothing, so it proves nothing)."""
        if self.standin:
            return False
        if not self.write_failed:
            return True
        try:
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT INTO schema_versions(name, version) VALUES ('write_probe', 0)"
                    " ON CONFLICT(name) DO UPDATE SET version = version + 1"
                )
        except (sqlite3.Error, OSError) as exc:
            self.failed(exc, "无法写入存储")
            return False
        self.succeeded()
        return True

    def report(self, held: int = 0) -> dict[str, Any]:
        """The `store` object of `dashboard check --json`."""
        return {
            "ok": self.ok,
            "path": str(self.path),
            "error": self.problem or None,
            "in_memory": self.standin,
            "notes": [*self.notes, *self.store.notes],
            "held_alerts": held,
        }

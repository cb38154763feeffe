"""The store must never stop the app: opening it whatever state the file is in, and
checking, repairing and vacuuming it (`dashboard store check|repair|vacuum`).

Policy (docs/reliability.md):
- a file that cannot be opened or written (read-only, full disk, a folder that is
  gone) is *unavailable*: the runtime runs on with a stand-in in memory, holds the
  alert decisions it cannot record, and tries the file again on every cycle;
- a file that is not a database, or is damaged (SQLITE_NOTADB / SQLITE_CORRUPT), is
  *repaired at once*: a byte copy is kept as `<name>.bak-<time>`, every row that still
  reads and decodes is copied into a fresh file that takes its place, and what was
  lost is said. Nothing is deleted: the copy is there for a person to look at.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard.alert_store import AUDIT_SCHEMA, ensure_audit_schema, ensure_ladder_schema, record_from_row
from dashboard.alert_store import SCHEMA as ALERTS_DDL
from dashboard.cases import CASES_DDL, ensure_cases_schema
from dashboard.store import _HISTORY_DDL, _SOURCES_DDL, _TABLE_RE, Store, item_from_dict

# Every table the store holds, in an order that keeps foreign keys satisfied on copy. The
# trail is copied like any table: its triggers refuse only UPDATE and DELETE.
TABLES = [
    *_TABLE_RE.findall(_HISTORY_DDL),
    *_TABLE_RE.findall(_SOURCES_DDL),
    *_TABLE_RE.findall(ALERTS_DDL),
    *_TABLE_RE.findall(AUDIT_SCHEMA),
    *_TABLE_RE.findall(CASES_DDL),
]


def is_corrupt(exc: BaseException) -> bool:
    """The file is not a database, or its pages are damaged: retrying will not help."""
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@dataclass(slots=True)
class Opened:
    """What `open_store` found: the store (None: unavailable), why not, what it did."""

    store: Store | None
    problem: str = ""  # why the file cannot be used now ("" when it can)
    notes: list[str] = field(default_factory=list)  # what was done (a repair), shown once
    repaired: RepairReport | None = None


def open_store(path: Path) -> Opened:
    """Open the store at `path`, repairing a damaged file (see the module docstring);
    never raises for a store problem."""
    try:
        store = Store(path)
        # Read once what every command reads, so a damaged page shows here, not later.
        store.conn.execute("SELECT count(*) FROM source_state").fetchone()
        return Opened(store)
    except (sqlite3.Error, OSError) as exc:
        if not (isinstance(exc, sqlite3.Error) and is_corrupt(exc)):
            return Opened(None, f"无法打开 {path}: {describe(exc)}")
        first = exc
    try:
        report = repair(path)
        store = Store(path)
    except (sqlite3.Error, OSError) as exc:
        return Opened(None, f"存储文件损坏且无法修复 {path}: {describe(first)}; 修复失败: {describe(exc)}")
    note = f"存储文件损坏（{describe(first)}），已备份为 {report.backup} 并重建：{report.summary()}"
    return Opened(store, notes=[note], repaired=report)


# -- checking each row ---------------------------------------------------------------------


def _iso_time(value: Any) -> None:
    datetime.fromisoformat(value)


def _number(value: Any) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ):
        raise ValueError(f"应为有限数字，实为 {value!r}")


def _history_row(row: Mapping[str, Any]) -> None:
    _iso_time(row["at"])
    for name in ("ratio", "actual", "target", "acceptance"):
        _number(row[name])


def _source_state_row(row: Mapping[str, Any]) -> None:
    for name in ("last_attempt", "last_success"):
        if row[name]:
            _iso_time(row[name])
    if row["as_of"]:
        date.fromisoformat(row["as_of"])
    if row["warnings"]:
        json.loads(row["warnings"])


def _source_item_row(row: Mapping[str, Any]) -> None:
    item_from_dict(json.loads(row["data"]))


def _alert_state_row(row: Mapping[str, Any]) -> None:
    record_from_row(row)


def _event_row(row: Mapping[str, Any]) -> None:
    json.loads(row["payload"])


ROW_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "item_history": _history_row,
    "item_latest": _history_row,
    "source_state": _source_state_row,
    "source_items": _source_item_row,
    "alert_state": _alert_state_row,
    "alert_events": _event_row,
}


def _decodes(table: str, row: Mapping[str, Any]) -> bool:
    check = ROW_CHECKS.get(table)
    if check is None:
        return True
    try:
        check(row)
    except (TypeError, ValueError, KeyError, AttributeError):
        return False
    return True


# -- `dashboard store check` -----------------------------------------------------------------


def check(path: Path) -> dict[str, Any]:
    """Integrity (`PRAGMA quick_check`), the tables present and every row decoding. Read
    only: the file is not changed. `ok` is True only for a healthy store."""
    report: dict[str, Any] = {
        "path": str(path),
        "exists": path.is_file(),
        "ok": False,
        "error": None,
        "integrity": [],
        "missing_tables": [],
        "rows": {},
        "bad_rows": {},
        "size": path.stat().st_size if path.is_file() else 0,
    }
    if not path.is_file():
        report["error"] = "存储文件不存在 no store file"
        return report
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        report["error"] = describe(exc)
        return report
    conn.row_factory = sqlite3.Row
    try:
        report["integrity"] = [r[0] for r in conn.execute("PRAGMA quick_check")]
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        report["missing_tables"] = [t for t in TABLES if t not in have]
        for table in TABLES:
            if table not in have:
                continue
            total = bad = 0
            for row in conn.execute(f"SELECT * FROM {table}"):  # table names come from our own DDL
                total += 1
                bad += not _decodes(table, row)
            report["rows"][table] = total
            if bad:
                report["bad_rows"][table] = bad
    except sqlite3.Error as exc:
        report["error"] = describe(exc)
    finally:
        conn.close()
    report["ok"] = (
        report["error"] is None
        and report["integrity"] == ["ok"]
        and not report["missing_tables"]
        and not report["bad_rows"]
    )
    return report


# -- `dashboard store repair` ------------------------------------------------------------------


@dataclass(slots=True)
class RepairReport:
    path: str
    backup: str
    kept: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)  # rows that did not read or decode
    unreadable: dict[str, str] = field(default_factory=dict)  # table → why it stopped reading
    recreated: list[str] = field(default_factory=list)  # tables that were missing

    @property
    def alert_state_intact(self) -> bool:
        """Every alert state row came through: the alert history needs no adopting."""
        return (
            not self.dropped.get("alert_state")
            and "alert_state" not in self.unreadable
            and ("alert_state" not in self.recreated)
        )

    def summary(self) -> str:
        lost = {t: n for t, n in self.dropped.items() if n}
        parts = [f"保留 {sum(self.kept.values())} 行"]
        if lost:
            parts.append("丢弃 " + "、".join(f"{t} {n} 行" for t, n in lost.items()))
        if self.unreadable:
            parts.append("无法读取 " + "、".join(self.unreadable))
        if self.recreated:
            parts.append("新建表 " + "、".join(self.recreated))
        return "，".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "backup": self.backup,
            "kept": self.kept,
            "dropped": self.dropped,
            "unreadable": self.unreadable,
            "recreated": self.recreated,
            "alert_state_intact": self.alert_state_intact,
        }


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def backup_copy(path: Path) -> Path:
    """A byte copy of the store (and its WAL, which holds the newest pages) beside it."""
    backup = path.with_name(f"{path.name}.bak-{_stamp()}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.bak-{_stamp()}-{n}")
    shutil.copy2(path, backup)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        shutil.copy2(wal, backup.with_name(backup.name + "-wal"))
    return backup


def repair(path: Path) -> RepairReport:
    """Back the file up, then rebuild it from what still reads: every table recreated,
    every row that reads and decodes copied to a fresh file that replaces the old one.
    Rows that do not come through are counted in the report (the backup keeps them)."""
    if not path.exists():
        Store(path).close()
        return RepairReport(str(path), "", recreated=list(TABLES))
    backup = backup_copy(path)
    report = RepairReport(str(path), str(backup))
    fresh = path.with_name(path.name + ".repairing")
    for p in (fresh, *_sidecars(fresh)):
        p.unlink(missing_ok=True)
    new = Store(fresh)
    ensure_ladder_schema(new)
    ensure_audit_schema(new)
    ensure_cases_schema(new)
    # Read from a scratch copy of the backup: opening it may replay its WAL into it.
    scratch = backup.with_name(backup.name + ".reading")
    shutil.copy2(backup, scratch)
    if backup.with_name(backup.name + "-wal").exists():
        shutil.copy2(backup.with_name(backup.name + "-wal"), scratch.with_name(scratch.name + "-wal"))
    try:
        _copy_rows(scratch, new, report)
    finally:
        new.close()
        for p in (scratch, *_sidecars(scratch)):
            p.unlink(missing_ok=True)
    for p in _sidecars(path):  # a stale WAL of the old file must not be replayed into the new one
        p.unlink(missing_ok=True)
    os.replace(fresh, path)
    for p in _sidecars(fresh):
        p.unlink(missing_ok=True)
    return report


def _copy_rows(source: Path, new: Store, report: RepairReport) -> None:
    try:
        old = sqlite3.connect(str(source))
        old.row_factory = sqlite3.Row
        have = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:  # not a database at all: nothing to copy
        for table in TABLES:
            report.unreadable[table] = describe(exc)
        return
    try:
        for table in TABLES:
            if table not in have:
                report.recreated.append(table)
                continue
            _copy_table(old, new, table, report)
    finally:
        old.close()


def _copy_table(old: sqlite3.Connection, new: Store, table: str, report: RepairReport) -> None:
    columns = [r[1] for r in new.conn.execute(f"PRAGMA table_info({table})")]
    kept = dropped = 0
    insert = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    with new.transaction() as conn:
        try:
            old_columns = {r[1] for r in old.execute(f"PRAGMA table_info({table})")}
            select = ", ".join(c if c in old_columns else "NULL" for c in columns)
            for row in old.execute(f"SELECT {select} FROM {table}"):  # names from our own DDL
                named = dict(zip(columns, row, strict=True))
                if not _decodes(table, named):
                    dropped += 1
                    continue
                try:
                    conn.execute(insert, row)
                    kept += 1
                except sqlite3.Error:  # NOT NULL, a foreign key to a dropped event
                    dropped += 1
        except sqlite3.Error as exc:  # a damaged page: what was read before it is kept
            report.unreadable[table] = describe(exc)
    report.kept[table] = kept
    report.dropped[table] = dropped


# -- `dashboard store vacuum` ----------------------------------------------------------------


def vacuum(path: Path, keep: timedelta | None, now: datetime | None = None) -> dict[str, Any]:
    """Trim the history (`Store.trim_history`), then VACUUM: the file shrinks to its rows."""
    before = path.stat().st_size if path.exists() else 0
    store = Store(path)
    try:
        deleted = store.trim_history(keep, now or datetime.now())
        with store.lock:
            store.conn.execute("VACUUM")
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return {
        "path": str(path),
        "deleted_points": deleted,
        "size_before": before,
        "size_after": path.stat().st_size,
    }

"""The SQLite store: one file holding item history, source state, alert state and
the alert outbox. Each feature module declares its own tables through
`Store.ensure_schema`, so this module stays the one owner of the connection.

This module owns two features itself:
- the ratio history of every item, one row per change of its figures, keyed by
  `history_key(item)` (the item's normalised name and lead unit, so the key does
  not depend on which source supplied the item or on its row number);
- the state of every source, with its last good items, so a restart shows the
  last good data at once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, cast

from dashboard import strict_json
from dashboard.core.items import NOTHING, DataWarning, Item, paused_gc
from dashboard.core.merge import merge_key

log = logging.getLogger(__name__)
_TABLE_RE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")
# History points older than this are thinned to the last one of each day (`trim_history`).
THIN_AFTER = timedelta(days=7)
# From this many rows on, a write is a bulk one: `record_history` finds the keys to replace
# with one scan, and the page cache is enlarged meanwhile (`Store.bulk`).
_BULK_ROWS = 2000
_CACHE, _BULK_CACHE = -512, -32768  # KiB (negative: a size, not a page count)


class Store:
    """A single SQLite connection in WAL mode, safe to use from one thread at a time
    (writes are serialised with a lock so workers and the UI cannot interleave)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.in_memory = str(path) == ":memory:"
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.notes: list[str] = []  # stored rows that no longer decode, skipped (shown as store notes)
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            # SQLite's own page cache is a second copy of what the OS already caches, and it
            # grows with the file up to its size (2 MiB by default): a dashboard left running
            # for weeks should not grow with its history. Reads by key need only a few pages.
            self.conn.execute(f"PRAGMA cache_size={_CACHE}")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            self.ensure_schema("history", 2, _HISTORY_DDL)
            self._add_column("item_history", "as_of", "TEXT")  # version 2: an older file lacks it
            self._add_column("item_history", "item", "TEXT")  # the item as imported (added to version 2)
            # After the columns: an older file's table gets `as_of` only just above.
            self.conn.execute("CREATE INDEX IF NOT EXISTS item_history_key_as_of ON item_history(key, as_of)")
            self.ensure_schema("sources", 2, _SOURCES_DDL)
        except BaseException:
            self.conn.close()  # a file that is not a database: no connection left behind
            raise
        self._identity = self.file_identity()  # of the file just opened (see `replaced`)
        # history key → last recorded figures; loaded on first use, then kept in step
        # with item_latest so a refresh compares in memory, not row by row in SQL.
        self._latest: dict[str, tuple[float | None, ...]] | None = None
        # The items of the last `record_history` and their history keys, by position: an
        # item that is the same object at the same position is not looked at again.
        self._recorded: tuple[list[Item], list[str], list[str]] = ([], [], [])  # items, keys, base keys
        # Each source's items as last written, by position (see `save_source`).
        self._saved_items: dict[str, Sequence[Item]] = {}

    def ensure_schema(self, name: str, version: int, ddl: str) -> None:
        """Create (or upgrade) the tables of one feature. `ddl` must be idempotent
        (CREATE ... IF NOT EXISTS) up to `version`."""
        with self.lock:
            row = self.conn.execute("SELECT version FROM schema_versions WHERE name = ?", (name,)).fetchone()
            if row is not None and row["version"] >= version and not self.missing_tables(ddl):
                return
            self.conn.executescript(f"BEGIN;\n{ddl}\nCOMMIT;")
            self.conn.execute(
                "INSERT INTO schema_versions(name, version) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET version = excluded.version",
                (name, version),
            )

    def _add_column(self, table: str, column: str, kind: str) -> None:
        with self.lock:
            have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def schema_version(self, name: str) -> int | None:
        """The version of a feature's tables recorded in this file (None: never created)."""
        with self.lock:
            row = self.conn.execute("SELECT version FROM schema_versions WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def missing_tables(self, ddl: str) -> list[str]:
        """The tables `ddl` creates that the file does not hold (dropped by hand, or lost)."""
        wanted = _TABLE_RE.findall(ddl)
        with self.lock:
            have = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return [t for t in wanted if t not in have]

    @contextmanager
    def bulk(self, rows: int) -> Iterator[None]:
        """A larger page cache while `rows` rows are written, when they are many. The small
        cache of `__init__` keeps a long-running dashboard flat, but 100,000 index inserts in
        key order (random pages) evict and re-read the same pages over and over: the first
        record of 100,000 items took twice as long. Set back after, which frees the pages."""
        if rows < _BULK_ROWS:
            yield
            return
        with self.lock:
            self.conn.execute(f"PRAGMA cache_size={_BULK_CACHE}")
            try:
                yield
            finally:
                self.conn.execute(f"PRAGMA cache_size={_CACHE}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock; rolled back if the block or the COMMIT
        raises (a COMMIT that fails on a full disk leaves the transaction open, and every
        later BEGIN would fail with it)."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        if self.conn.in_transaction:  # SQLite may have rolled back already (I/O error, full disk)
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error as exc:  # the original error is the one to report
                log.warning("ROLLBACK failed in %s: %s", self.path, exc)

    def file_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the file at `path` now; None when there is none."""
        if self.in_memory:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def replaced(self) -> bool:
        """The file at `path` is gone or is another file than the one this connection
        writes: SQLite would go on writing to the unlinked file without an error."""
        return not self.in_memory and self.file_identity() != self._identity

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # -- item history -------------------------------------------------------------
    def record_history(
        self, items: Iterable[Item], at: datetime | None = None, as_of: date | None = None
    ) -> int:
        """Record the figures of every item whose figures changed since they were last
        recorded (new items included), with the data's as-of date. A point of the same
        as-of date is replaced, not added to: history holds one point per item and as-of
        date (a re-run of a month's data never grows it). One transaction; returns the
        rows written."""
        at_text = (at or datetime.now()).isoformat(timespec="seconds")
        as_of_text = as_of.isoformat() if as_of else None
        items = items if isinstance(items, list) else list(items)
        with self.lock:
            latest = self._load_latest()
            old_items, old_keys, old_base = self._recorded
            keys, base = history_keys(items, old_items, old_base)
            changed: list[tuple[Any, ...]] = []
            n_old = len(old_items)
            for i, (key, item) in enumerate(zip(keys, items, strict=True)):
                if i < n_old and item is old_items[i] and key == old_keys[i]:
                    continue  # the same object under the same key: recorded last time
                figures = (item.ratio, item.actual, item.target, item.acceptance_ratio)
                if latest.get(key) != figures:
                    latest[key] = figures
                    changed.append(
                        (
                            key,
                            at_text,
                            item.id,
                            *figures,
                            item.field_sources.get("ratio") or item.source,
                            as_of_text,
                        )
                    )
            try:
                if len(changed) >= _BULK_ROWS:
                    # In key order, each index insert lands next to the last one instead of on a
                    # random page: twice as fast for a first record of 100,000 items. (Keys are
                    # unique within a record, so the order of the rows means nothing else.)
                    changed.sort(key=itemgetter(0))
                if changed:
                    with self.bulk(len(changed)), self.transaction() as conn:
                        if as_of_text is not None:
                            conn.executemany(
                                "DELETE FROM item_history WHERE key = ? AND as_of = ?",
                                ((row[0], as_of_text) for row in self._dated(conn, changed, as_of_text)),
                            )
                        conn.executemany(
                            "INSERT INTO item_history(key, at, item_id, ratio, actual, target, acceptance,"
                            " source, as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            changed,
                        )
                        conn.executemany(
                            "INSERT INTO item_latest(key, at, item_id, ratio, actual, target, acceptance,"
                            " source) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                            " at = excluded.at, item_id = excluded.item_id, ratio = excluded.ratio,"
                            " actual = excluded.actual, target = excluded.target,"
                            " acceptance = excluded.acceptance, source = excluded.source",
                            [row[:-1] for row in changed],
                        )
            except BaseException:
                # The cache ran ahead of the database: reload next time.
                self._latest, self._recorded = None, ([], [], [])
                raise
            self._recorded = (list(items), keys, base)  # a copy: the caller may change its list
            return len(changed)

    @staticmethod
    def _dated(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], as_of: str) -> list[tuple[Any, ...]]:
        """The rows whose key may already hold a point at `as_of` (to be replaced). A first
        record of 100,000 items would otherwise run 100,000 DELETEs that find nothing
        (a third of a first `dashboard check`): for a large batch, one scan names the keys
        that do have a point of that date."""
        if len(rows) < _BULK_ROWS:
            return rows
        dated = {
            k for (k,) in conn.execute("SELECT DISTINCT key FROM item_history WHERE as_of = ?", (as_of,))
        }
        return [row for row in rows if row[0] in dated] if dated else []

    def history(self, key: str) -> list[HistoryPoint]:
        """Every recorded point of one item's figures, oldest first by the data's date
        (its as-of date; for a point recorded without one, the day it was loaded): a
        past bulletin imported today sorts before the data it preceded."""
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {_POINT_COLUMNS} FROM item_history WHERE key = ? ORDER BY {_POINT_DAY}, at, rowid",
                (key,),
            ).fetchall()
        return [p for p in map(self._point, rows) if p is not None]

    def history_at(self, day: date) -> dict[str, HistoryPoint]:
        """History key → the item's last point dated on or before `day` (by `HistoryPoint.day`),
        for every item that has one: the items as they stood on that day."""
        with self.lock:
            rows = self.conn.execute(
                f"SELECT key, {_POINT_COLUMNS} FROM item_history WHERE {_POINT_DAY} <= ?"
                f" ORDER BY key, {_POINT_DAY}, at, rowid",
                (day.isoformat(),),
            ).fetchall()
        found: dict[str, HistoryPoint] = {}
        for r in rows:
            point = self._point(r)
            if point is not None:
                found[r["key"]] = point  # the rows are in date order: the last one stands
        return found

    def history_days(self) -> tuple[date | None, date | None]:
        """The first and last day (`HistoryPoint.day`) history holds a point for; None when empty."""
        with self.lock:
            row = self.conn.execute(
                f"SELECT min({_POINT_DAY}), max({_POINT_DAY}) FROM item_history"
            ).fetchone()
        try:
            return tuple(None if v is None else date.fromisoformat(v) for v in row)  # type: ignore[return-value]
        except (TypeError, ValueError) as exc:
            self.note_skipped(f"进度历史中有无法解码的日期 (item_history: {exc})")
            return None, None

    def record_points(self, items: Sequence[Item], as_of: date, at: datetime | None = None) -> int:
        """Record one point per item at `as_of`, each with the item itself (an imported past
        bulletin, `dashboard import`), replacing any point of that date. History only: the
        latest figures (`item_latest`, the stalled rule's clock) are not touched. One
        transaction; returns the points written."""
        at_text = (at or datetime.now()).isoformat(timespec="seconds")
        day = as_of.isoformat()
        keys, _ = history_keys(items)
        rows = [
            (
                key,
                at_text,
                item.id,
                item.ratio,
                item.actual,
                item.target,
                item.acceptance_ratio,
                item.field_sources.get("ratio") or item.source,
                day,
                _dumps(item_to_dict(item)),
            )
            for key, item in zip(keys, items, strict=True)
        ]
        with self.transaction() as conn:
            conn.executemany(
                "DELETE FROM item_history WHERE key = ? AND as_of = ?", ((r[0], day) for r in rows)
            )
            conn.executemany(
                "INSERT INTO item_history(key, at, item_id, ratio, actual, target, acceptance, source, as_of, item)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def _point(self, r: sqlite3.Row) -> HistoryPoint | None:
        try:
            at = datetime.fromisoformat(r["at"])
            as_of = date.fromisoformat(r["as_of"]) if r["as_of"] else None
            figures = [_finite_or_none(r[k]) for k in ("ratio", "actual", "target", "acceptance")]
            item = item_from_dict(json.loads(r["item"])) if r["item"] else None
        except (TypeError, ValueError, AttributeError) as exc:
            self.note_skipped(f"进度历史中有无法解码的行，已跳过 (item_history: {exc})")
            return None
        ratio, actual, target, acceptance = figures
        return HistoryPoint(at, ratio, actual, target, acceptance, str(r["source"] or ""), as_of, item)

    def last_changes(self) -> dict[str, datetime]:
        """History key → when its figures last changed (for the "stalled" rule)."""
        with self.lock:
            rows = self.conn.execute("SELECT key, at FROM item_latest").fetchall()
        changes: dict[str, datetime] = {}
        for r in rows:
            try:
                changes[r["key"]] = datetime.fromisoformat(r["at"])
            except (TypeError, ValueError) as exc:
                self.note_skipped(f"最近进度表中有无法解码的行，已跳过 (item_latest: {exc})")
        return changes

    def trim_history(self, keep: timedelta | None, now: datetime, thin_after: timedelta = THIN_AFTER) -> int:
        """Delete history points older than `keep` (None: keep them all), and thin the
        points older than `thin_after` to the last one of each item and day (intra-day
        changes are noise once a week old). `item_latest` is untouched. Returns the rows
        deleted. One transaction."""
        thin_before = (now - thin_after).date().isoformat()  # whole days only: `at` compares as text
        with self.transaction() as conn:
            deleted = 0
            if keep is not None:
                cutoff = (now - keep).isoformat(timespec="seconds")
                deleted += conn.execute("DELETE FROM item_history WHERE at < ?", (cutoff,)).rowcount
            # Per as-of date too: past bulletins imported on one day are one point each.
            deleted += conn.execute(
                "DELETE FROM item_history WHERE at < ?1 AND rowid NOT IN (SELECT max(rowid) FROM item_history"
                " WHERE at < ?1 GROUP BY key, coalesce(as_of, ''), substr(at, 1, 10))",
                (thin_before,),
            ).rowcount
        return deleted

    def _load_latest(self) -> dict[str, tuple[float | None, ...]]:
        if self._latest is None:
            rows = self.conn.execute("SELECT key, ratio, actual, target, acceptance FROM item_latest")
            self._latest = {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}
        return self._latest

    # -- source state ---------------------------------------------------------------
    def save_source(
        self,
        name: str,
        *,
        spec_key: str,
        ok: bool | None,
        error: str,
        last_attempt: datetime | None,
        last_success: datetime | None,
        as_of: date | None = None,
        items: Sequence[Item] | None = None,
        warnings: Sequence[DataWarning] = (),
    ) -> None:
        """Record a source's state after an attempt. `items` (and `warnings`) are given
        after a successful fetch that changed them; otherwise the stored ones stay.

        Items are stored one row each, by position. Only the positions whose item is not
        the same object as the one last written there (by this store object) are written:
        a refresh where 1% changed writes 1% of the rows, when the caller keeps unchanged
        items as the same objects (as the runtime does)."""
        state = (
            spec_key,
            None if ok is None else int(ok),
            error,
            _iso(last_attempt),
            _iso(last_success),
            as_of.isoformat() if as_of else None,
        )
        with self.lock:
            if items is None:
                # Failed, or the same items as last time: only the state moves.
                with self.transaction() as conn:
                    conn.execute(
                        "INSERT INTO source_state(name, spec_key, ok, error, last_attempt, last_success, as_of)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET ok = excluded.ok,"
                        " error = excluded.error, last_attempt = excluded.last_attempt,"
                        " last_success = excluded.last_success, as_of = excluded.as_of",
                        (name, *state),
                    )
                return
            warn_json = strict_json.dumps([_warning_to_dict(w) for w in warnings], ensure_ascii=False)
            before = self._saved_items.get(name)
            self._saved_items.pop(name, None)  # unknown until the write commits
            if before is None:
                positions: Sequence[int] = range(len(items))
            else:
                n = len(before)
                positions = [i for i, item in enumerate(items) if i >= n or item is not before[i]]
            with self.bulk(len(positions)), self.transaction() as conn:
                conn.execute(
                    "INSERT INTO source_state(name, spec_key, ok, error, last_attempt, last_success, as_of,"
                    " item_count, items, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)"
                    " ON CONFLICT(name) DO UPDATE SET spec_key = excluded.spec_key, ok = excluded.ok,"
                    " error = excluded.error, last_attempt = excluded.last_attempt,"
                    " last_success = excluded.last_success, as_of = excluded.as_of,"
                    " item_count = excluded.item_count, items = NULL, warnings = excluded.warnings",
                    (name, *state, len(items), warn_json),
                )
                if before is None:
                    conn.execute("DELETE FROM source_items WHERE source = ?", (name,))
                else:
                    conn.execute("DELETE FROM source_items WHERE source = ? AND pos >= ?", (name, len(items)))
                # A generator: at 100,000 items the JSON of all of them is never in memory at once.
                conn.executemany(
                    "INSERT INTO source_items(source, pos, data) VALUES (?, ?, ?)"
                    " ON CONFLICT(source, pos) DO UPDATE SET data = excluded.data",
                    ((name, i, encode_item(items[i])) for i in positions),
                )
            self._saved_items[name] = list(items)  # a copy: the caller may change its list

    def load_sources(self) -> dict[str, SavedSource]:
        """Every source's recorded state with its last good items, by source name. A row
        that no longer decodes (written by a buggy plugin, or damaged) is skipped with a
        warning on its source and a note in `notes`, never a crash."""
        with self.lock:
            rows = self.conn.execute("SELECT * FROM source_state").fetchall()
        saved: dict[str, SavedSource] = {}
        for r in rows:
            name = str(r["name"])
            skipped: list[DataWarning] = []
            try:
                state = SavedSource(
                    name=name,
                    spec_key=str(r["spec_key"]),
                    ok=None if r["ok"] is None else bool(r["ok"]),
                    error=str(r["error"] or ""),
                    last_attempt=_from_iso(r["last_attempt"]),
                    last_success=_from_iso(r["last_success"]),
                    as_of=date.fromisoformat(r["as_of"]) if r["as_of"] else None,
                    item_count=int(r["item_count"] or 0),
                )
            except (TypeError, ValueError) as exc:
                self.note_skipped(f"数据源 {name} 的状态行无法解码，已跳过 (source_state: {exc})")
                continue
            try:
                if r["warnings"]:
                    state.warnings = [DataWarning(**d) for d in json.loads(r["warnings"])]
            except (TypeError, ValueError) as exc:
                self.note_skipped(f"数据源 {name} 保存的警告无法解码，已跳过 ({exc})")
            if r["items"]:  # written by an older version: one JSON document
                try:
                    state.items = [item_from_dict(d) for d in json.loads(r["items"])]
                except (TypeError, ValueError, AttributeError) as exc:
                    skipped.append(self._bad_item(name, None, exc))
            else:
                with self.lock:
                    cur = self.conn.execute(
                        "SELECT pos, data FROM source_items WHERE source = ? ORDER BY pos", (name,)
                    )
                    with paused_gc():  # 100,000 items and their dicts: nothing cyclic to scan
                        for pos, data in cur:
                            try:
                                state.items.append(item_from_dict(json.loads(data)))
                            except (TypeError, ValueError, AttributeError) as exc:
                                skipped.append(self._bad_item(name, pos, exc))
                    # Positions no longer match the list (a row skipped, or lost in a repair):
                    # the next save rewrites them all.
                    if skipped or len(state.items) != state.item_count:
                        self._saved_items.pop(name, None)
                    else:
                        self._saved_items[name] = state.items
            state.warnings.extend(skipped)
            saved[name] = state
        return saved

    def _bad_item(self, source: str, pos: int | None, exc: Exception) -> DataWarning:
        where = "" if pos is None else f"第 {pos + 1} 项"
        message = f"存储中保存的{where}项目无法解码，已跳过 stored item skipped: {type(exc).__name__}: {exc}"
        self.note_skipped(f"数据源 {source}: {message}")
        return DataWarning(source, message, location=str(self.path), row=None if pos is None else pos + 1)

    def note_skipped(self, note: str) -> None:
        log.warning("%s", note)
        if note not in self.notes and len(self.notes) < 50:  # a note per kind of damage, not per row
            self.notes.append(note)


_HISTORY_DDL = """
CREATE TABLE IF NOT EXISTS item_history (
    key TEXT NOT NULL,          -- history_key(item): normalised name|lead unit
    at TEXT NOT NULL,           -- ISO local time of the fetch that saw the change
    item_id TEXT NOT NULL,      -- the item's id as shown, for reference
    ratio REAL, actual REAL, target REAL, acceptance REAL,
    source TEXT NOT NULL DEFAULT '',
    as_of TEXT,                 -- (version 2) the data's as-of date when it was seen; NULL before
    item TEXT                   -- the item as JSON, for a point imported from a past bulletin (added later)
);
CREATE INDEX IF NOT EXISTS item_history_key_at ON item_history(key, at);
CREATE TABLE IF NOT EXISTS item_latest (
    key TEXT PRIMARY KEY,
    at TEXT NOT NULL,           -- when these figures were first seen (the last change)
    item_id TEXT NOT NULL,
    ratio REAL, actual REAL, target REAL, acceptance REAL,
    source TEXT NOT NULL DEFAULT ''
);
"""

# The columns a HistoryPoint is read from, and its day as SQL (as `HistoryPoint.day`).
_POINT_COLUMNS = "at, ratio, actual, target, acceptance, source, as_of, item"
_POINT_DAY = "coalesce(as_of, substr(at, 1, 10))"

_SOURCES_DDL = """
CREATE TABLE IF NOT EXISTS source_state (
    name TEXT PRIMARY KEY,
    spec_key TEXT NOT NULL,     -- type + options: last good items are restored only for the same spec
    ok INTEGER,
    error TEXT NOT NULL DEFAULT '',
    last_attempt TEXT,
    last_success TEXT,
    as_of TEXT,
    item_count INTEGER NOT NULL DEFAULT 0,
    items TEXT,                 -- (version 1: the last good items as one JSON list; now NULL)
    warnings TEXT
);
CREATE TABLE IF NOT EXISTS source_items (  -- the last good items of each source, one row each
    source TEXT NOT NULL,
    pos INTEGER NOT NULL,       -- position in the source's list
    data TEXT NOT NULL,         -- the item as JSON (empty fields left out)
    PRIMARY KEY (source, pos)
) WITHOUT ROWID;
"""


@dataclass(slots=True, frozen=True)
class HistoryPoint:
    """One recorded change of an item's figures."""

    at: datetime
    ratio: float | None
    actual: float | None
    target: float | None
    acceptance: float | None
    source: str
    as_of: date | None = None  # the data's as-of date (None: recorded before store version 2)
    item: Item | None = None  # the whole item, for a point imported from a past bulletin

    @property
    def day(self) -> date:
        """The data's date of this point: its as-of date, else the day it was loaded."""
        return self.as_of or self.at.date()


@dataclass(slots=True)
class SavedSource:
    """A source's state as the store last recorded it."""

    name: str
    spec_key: str
    ok: bool | None
    error: str
    last_attempt: datetime | None
    last_success: datetime | None
    as_of: date | None
    item_count: int
    items: list[Item] = field(default_factory=list)
    warnings: list[DataWarning] = field(default_factory=list)


def history_key(item: Item) -> str:
    """The key of an item's history: its normalised name and lead unit (see merge.py)."""
    return merge_key(item)


def history_keys(
    items: Sequence[Item], old_items: Sequence[Item] = (), old_base: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """The history key of each item (`history_key`; a key seen again in the list gets `#2`,
    `#3`, ... in order), and the keys before numbering. Where an item is the same
    object at the same position as in `old_items`, its key is taken from `old_base`
    instead of normalising its name again."""
    n_old = len(old_items)
    base = [
        old_base[i] if i < n_old and item is old_items[i] else merge_key(item) for i, item in enumerate(items)
    ]
    seen: dict[str, int] = {}
    keys: list[str] = []
    for key in base:
        n = seen.get(key, 0) + 1
        seen[key] = n
        keys.append(key if n == 1 else f"{key}#{n}")
    return keys, base


def spec_key(type_name: str, options: dict[str, Any]) -> str:
    """What identifies a source's configuration, so a changed table does not get
    the items of the old one restored."""
    return strict_json.dumps(
        {"type": type_name, "options": options}, ensure_ascii=False, sort_keys=True, default=str
    )


# -- items as JSON -------------------------------------------------------------------
_ITEM_FIELDS = tuple(f.name for f in fields(Item))


def item_to_dict(item: Item) -> dict[str, Any]:
    """An item as a JSON-ready dict, without empty fields (half the size at 100,000 items)."""
    d: dict[str, Any] = {}
    for name in _ITEM_FIELDS:
        value = getattr(item, name)
        if value is None or value is False or (not value and isinstance(value, (str, Mapping))):
            continue
        d[name] = dict(value) if isinstance(value, Mapping) else value
    if item.as_of is not None:
        d["as_of"] = item.as_of.isoformat()
    return d


# A stored item row: this tag, then every field's value in `Item`'s order. Positional, so a
# row needs no key text and is encoded in C: 100,000 items in ~0.9 s instead of ~1.35 s as
# dicts, and decoded faster. `Item` only ever gains fields at its end (see `county`), so an
# older row still lines up; a row of another order would need another tag.
ITEM_ROW_TAG = "i1"
_ITEM_VALUES = attrgetter(*_ITEM_FIELDS)


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):  # the shared empty mapping, and the items' own
        return dict(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_encode_row = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default
).encode


def encode_item(item: Item) -> str:
    """An item as its stored row (`ITEM_ROW_TAG` and its values); `item_from_dict` reads it."""
    try:
        return _encode_row((ITEM_ROW_TAG, *_ITEM_VALUES(item)))
    except ValueError:  # a non-finite number slipped through: the strict writer's nulls
        return _dumps(item_to_dict(item))


_NUMBER_FIELDS = frozenset({"target", "actual", "ratio", "acceptance_ratio", "satisfaction"})
_INT_FIELDS = frozenset({"ratings", "comments_received", "comments_answered"})
# Each field's JSON type; a value of another type makes the row undecodable.
_KINDS: dict[str, type] = {
    **{f.name: str for f in fields(Item)},
    **dict.fromkeys(_NUMBER_FIELDS, float),
    **dict.fromkeys(_INT_FIELDS, float),  # counts: an int, or a whole float from an older version
    **dict.fromkeys(("target_is_rate", "ratio_computed"), bool),
    **dict.fromkeys(("extra", "field_sources", "monthly_updates", "disclosures"), dict),
}
_INF = math.inf


_NONE = type(None)
_N_FIELDS = len(_ITEM_FIELDS)
_NUMBER_POS = tuple(i for i, name in enumerate(_ITEM_FIELDS) if _KINDS[name] is float)
_DICT_POS = tuple(i for i, name in enumerate(_ITEM_FIELDS) if _KINDS[name] is dict)
_AS_OF_POS = _ITEM_FIELDS.index("as_of")
_row_shapes: dict[tuple[type, ...], bool] = {}  # the types of a row's values → fit for `_item_from_row`


def _fits(shape: tuple[type, ...]) -> bool:
    """Whether every value of a row of these types is of its field's kind (None where the
    field may be None: the numbers and `as_of`)."""
    if len(shape) != _N_FIELDS:
        return False
    for name, t in zip(_ITEM_FIELDS, shape, strict=True):
        kind = _KINDS[name]
        if not (t is kind or (kind is float and t in (int, _NONE)) or (name == "as_of" and t is _NONE)):
            return False
    return True


def _item_from_row(values: list[Any]) -> Item | None:
    """The fast path of a stored row (restoring 100,000 items at a restart): the row's types
    checked at once against shapes seen before, then only what a type cannot tell (finite
    numbers, an id or a name). None: not a plain row; `item_from_dict` checks it field by field
    and says why. Empty mappings become the shared empty one, as the loaders make them."""
    shape = tuple(map(type, values))
    fits = _row_shapes.get(shape)
    if fits is None:
        fits = _row_shapes[shape] = _fits(shape)
    if not fits or not (values[0] or values[1]):
        return None
    for i in _NUMBER_POS:
        v = values[i]
        if v is not None and not -_INF < v < _INF:
            return None
    for i in _DICT_POS:
        if values[i]:
            return None  # a filled mapping: its values are checked one by one
        values[i] = NOTHING
    as_of = values[_AS_OF_POS]
    if as_of is not None:
        values[_AS_OF_POS] = date.fromisoformat(as_of)
    return Item(*values)


def item_from_dict(d: dict[str, Any] | list[Any]) -> Item:
    """The item `item_to_dict` (or `encode_item`, as a list) wrote. Raises ValueError (or TypeError) for a row that does
    not decode to a well-formed item: the wrong type in a field, a number not finite, no
    id or name; a row taken as it is would crash the evaluation later instead."""
    if isinstance(d, list):  # a row of `encode_item`
        if not d or d[0] != ITEM_ROW_TAG:
            raise ValueError(f"未知的项目存储格式 {str(d[:1])[:40]}")
        fast = _item_from_row(d[1 : _N_FIELDS + 1])
        if fast is not None:
            return fast
        # Not strict: a row of a later version may hold more fields, one of an earlier fewer.
        values = zip(_ITEM_FIELDS, d[1:], strict=False)
        d = {name: value for name, value in values if value is not None}
    if not isinstance(d, dict):
        raise TypeError(f"应为对象，实为 {type(d).__name__}")
    known: dict[str, Any] = {}
    value: Any
    for name, value in d.items():
        kind = _KINDS.get(name)
        if kind is None:
            continue  # a field of another version
        if type(value) is not kind and not (kind is float and type(value) is int):
            raise ValueError(f"{name} 应为 {kind.__name__}，实为 {value!r}")
        if kind is float and not -_INF < cast(float, value) < _INF:  # NaN fails both comparisons
            raise ValueError(f"{name} 应为有限数字，实为 {value!r}")
        if kind is dict and not all(
            type(v) is (int if name in ("monthly_updates", "disclosures") else str)
            for v in cast(dict[str, Any], value).values()
        ):
            raise ValueError(f"{name} 的值类型不对: {value!r}")
        known[name] = value
    known.setdefault("id", "")  # empty text is left out when written
    known.setdefault("name", "")
    if not known["id"] and not known["name"]:
        raise ValueError("缺少 id 和 name")
    if known.get("as_of"):
        known["as_of"] = date.fromisoformat(known["as_of"])
    if known.get("monthly_updates"):
        known["monthly_updates"] = {int(m): n for m, n in known["monthly_updates"].items()}
    return Item(**known)


def _warning_to_dict(w: DataWarning) -> dict[str, Any]:
    return {
        "source": w.source,
        "message": w.message,
        "location": w.location,
        "row": w.row,
        "column": w.column,
    }


def _dumps(value: Any) -> str:
    return strict_json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"应为有限数字，实为 {value!r}")
    return float(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None

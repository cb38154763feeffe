"""The alert tables of the SQLite store (alert state, events, the per-sink outbox,
each sink's delivery state) with their row mapping; the delivery lock; and the
history query the `stalled` rule needs. The decisions are `dashboard.alerting`'s."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from filelock import Timeout

from dashboard import strict_json
from dashboard.alert_files import os_lock
from dashboard.core.alerts import AlertEvent, AlertRecord
from dashboard.core.items import Evaluated, Status
from dashboard.sinks import SinkSpec
from dashboard.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_state (
    key TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    item_id TEXT NOT NULL,
    item_name TEXT NOT NULL,
    unit TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    message TEXT NOT NULL,
    figures TEXT NOT NULL,
    first_fired TEXT NOT NULL,
    last_sent TEXT,
    resolved_at TEXT,
    silenced_until TEXT,
    acknowledged_at TEXT
);
CREATE INDEX IF NOT EXISTS alert_state_by_state ON alert_state(state);
CREATE TABLE IF NOT EXISTS alert_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_outbox (
    sink TEXT NOT NULL,
    seq INTEGER NOT NULL REFERENCES alert_events(seq),
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sink, seq)
);
CREATE TABLE IF NOT EXISTS alert_sinks (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    last_error TEXT,
    last_error_at TEXT,
    last_ok_at TEXT,
    next_attempt TEXT,
    permanent INTEGER NOT NULL DEFAULT 0,
    fingerprint TEXT
);
"""
# The escalation ladder's columns on alert_state (alerts schema version 2: older files get
# them by ALTER TABLE). Nullable, so a row from before them (or copied by `store repair`)
# reads as 提醒 with its days counted from the next bulletin.
ALERTS_VERSION = 2
LADDER_COLUMNS = {
    "level": "INTEGER",
    "opened_as_of": "TEXT",
    "last_as_of": "TEXT",
    "bulletins": "INTEGER",
    "resolved_as_of": "TEXT",
}


def ts(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def record_from_row(row: Mapping[str, Any]) -> AlertRecord:
    return AlertRecord(
        key=row["key"],
        rule=row["rule"],
        item_id=row["item_id"],
        item_name=row["item_name"],
        unit=row["unit"],
        severity=row["severity"],
        state=row["state"],
        message=row["message"],
        first_fired=datetime.fromisoformat(row["first_fired"]),
        last_sent=dt(row["last_sent"]),
        resolved_at=dt(row["resolved_at"]),
        silenced_until=date.fromisoformat(row["silenced_until"]) if row["silenced_until"] else None,
        figures=json.loads(row["figures"]),
        acknowledged_at=dt(row["acknowledged_at"]),
        level=int(_raw(row, "level") or 0),
        opened_as_of=_day(_raw(row, "opened_as_of")),
        last_as_of=_day(_raw(row, "last_as_of")),
        bulletins=int(_raw(row, "bulletins") or 0),
        resolved_as_of=_day(_raw(row, "resolved_as_of")),
    )


def _raw(row: Mapping[str, Any], column: str) -> Any:
    try:
        return row[column]
    except (IndexError, KeyError):  # a row read before the column existed
        return None


def _day(value: object) -> date | None:
    return None if value is None or value == "" else date.fromisoformat(str(value))


def ensure_ladder_schema(store: Store) -> None:
    """The alert tables (version 2) and the ladder's columns of alert_state (ALTER TABLE,
    guarded by a column check, so it applies in any order with other upgrades)."""
    store.ensure_schema("alerts", ALERTS_VERSION, SCHEMA)
    with store.lock:
        have = {r[1] for r in store.conn.execute("PRAGMA table_info(alert_state)")}
        for column, kind in LADDER_COLUMNS.items():
            if have and column not in have:
                store.conn.execute(f"ALTER TABLE alert_state ADD COLUMN {column} {kind}")


def _optional(row: Mapping[str, Any], column: str) -> str:
    try:
        value = row[column]
    except (IndexError, KeyError):  # a row read before the column existed
        return ""
    return "" if value is None else str(value)


@contextmanager
def delivery_lock(store_path: Path) -> Iterator[bool]:
    """A lock next to the store, held while delivering: two processes, or two threads
    of one (the TUI's workers), never send the same outbox at once. `filelock`: flock
    on POSIX, msvcrt on Windows; the OS drops it when its holder dies, so a crash never
    blocks the next run. Yields False at once when another holder has it."""
    if str(store_path) == ":memory:":
        yield True
        return
    # A new, not thread-local lock per call: a second thread is refused as a second process is.
    lock = os_lock(store_path.with_name(store_path.name + ".deliver.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


# -- the engine --------------------------------------------------------------------------


def stalled_history(
    store: Store, evaluated: Sequence[Evaluated], before: date | None = None
) -> dict[str, list[tuple[date, float]]]:
    """Item id → [(date its figures last changed, ratio)] from the store's history
    (`item_latest`), for the items not done: what the pure `stalled` rule needs. Only
    items whose ratio is the one last recorded count; the others changed since. With
    `before`, only items whose figures last changed before that day (the others cannot
    have stalled long enough): at 100,000 items, reading every row cost 0.3 s a refresh."""
    with store.lock:
        cur = store.conn.cursor()
        cur.row_factory = None  # plain tuples: 100,000 rows
        if before is None:
            rows = cur.execute("SELECT item_id, at, ratio FROM item_latest").fetchall()
        else:  # `at` is ISO local time: compares as text with a date
            rows = cur.execute(
                "SELECT item_id, at, ratio FROM item_latest WHERE at < ?", (before.isoformat(),)
            ).fetchall()
    if not rows:
        return {}
    latest = {r[0]: (r[1], r[2]) for r in rows}
    history: dict[str, list[tuple[date, float]]] = {}
    days: dict[str, date] = {}  # most rows share a few fetch times: parse each once
    for item in (e.item for e in evaluated if e.status is not Status.DONE):
        found = latest.get(item.id)
        if found is None or item.ratio is None or found[1] is None or abs(found[1] - item.ratio) > 1e-9:
            continue
        day = days.get(found[0])
        if day is None:
            try:
                day = days[found[0]] = date.fromisoformat(str(found[0])[:10])
            except ValueError:  # a damaged row: this item cannot be judged stalled
                store.note_skipped(
                    f"最近进度表中有无法解码的行，已跳过 (item_latest {item.id}: {found[0]!r})"
                )
                continue
        history[item.id] = [(day, item.ratio)]
    return history


def save_record(conn: Any, r: AlertRecord) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO alert_state (key, rule, item_id, item_name, unit, severity, state, message, "
        "figures, first_fired, last_sent, resolved_at, silenced_until, acknowledged_at, "
        "level, opened_as_of, last_as_of, bulletins, resolved_as_of) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            r.key,
            r.rule,
            r.item_id,
            r.item_name,
            r.unit,
            r.severity,
            r.state,
            r.message,
            strict_json.dumps(dict(r.figures), ensure_ascii=False),
            ts(r.first_fired),
            ts(r.last_sent),
            ts(r.resolved_at),
            ts(r.silenced_until),
            ts(r.acknowledged_at),
            r.level,
            ts(r.opened_as_of),
            ts(r.last_as_of),
            r.bulletins,
            ts(r.resolved_as_of),
        ),
    )


def queue_event(conn: Any, event: AlertEvent, sinks: Sequence[str]) -> None:
    cur = conn.execute(
        "INSERT INTO alert_events (id, key, kind, at, payload) VALUES (?, ?, ?, ?, ?)",
        (
            event.id,
            event.key,
            event.kind,
            ts(event.at),
            strict_json.dumps(event.to_dict(), ensure_ascii=False),
        ),
    )
    conn.executemany(
        "INSERT INTO alert_outbox (sink, seq) VALUES (?, ?)", [(s, cur.lastrowid) for s in sinks]
    )


def upsert_sink(conn: Any, spec: SinkSpec, fingerprint: str, *, ok: bool = False, **values: Any) -> None:
    conn.execute(
        "INSERT INTO alert_sinks (name, type, fingerprint) VALUES (?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET type = excluded.type, fingerprint = excluded.fingerprint",
        (spec.name, spec.type, fingerprint),
    )
    if ok:
        values = {**values, "last_error": None, "last_error_at": None, "next_attempt": None, "permanent": 0}
    if values:
        if "permanent" in values:
            values["permanent"] = int(bool(values["permanent"]))
        assignments = ", ".join(f"{k} = ?" for k in values)
        conn.execute(f"UPDATE alert_sinks SET {assignments} WHERE name = ?", (*values.values(), spec.name))

"""The alert tables of the SQLite store (alert state, events, the per-sink outbox,
each sink's delivery state) with their row mapping; the delivery lock; and the
history query the `stalled` rule needs. The decisions are `dashboard.alerting`'s."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

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

# The audit trail (留痕) and the silences by matcher: a feature of their own ("audit"), so
# the alert tables' own version stays the ladder's to bump. The triggers make the trail
# append-only; INSERT still works, so `store repair` can copy it into a fresh file.
AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_trail (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    before TEXT,
    after TEXT,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_trail_by_subject ON audit_trail(subject, seq);
CREATE TRIGGER IF NOT EXISTS audit_trail_no_update BEFORE UPDATE ON audit_trail
BEGIN SELECT RAISE(ABORT, '留痕不可修改 audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_trail_no_delete BEFORE DELETE ON audit_trail
BEGIN SELECT RAISE(ABORT, '留痕不可修改 audit trail is append-only'); END;
CREATE TABLE IF NOT EXISTS silences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    matchers TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    until TEXT NOT NULL,
    author TEXT NOT NULL,
    comment TEXT NOT NULL,
    expired_at TEXT
);
"""
# Columns added to alert_state by this feature (older files get them by ALTER TABLE).
# Nullable: `store repair` copies an older file's rows with NULL in them.
ALERT_PEOPLE_COLUMNS = {"acknowledged_by": "TEXT", "ack_comment": "TEXT"}
SYSTEM = "system"  # the actor of the engine's own decisions
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
        acknowledged_by=_optional(row, "acknowledged_by"),
        comment=_optional(row, "ack_comment"),
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
    from filelock import Timeout

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
        "acknowledged_by, ack_comment, level, opened_as_of, last_as_of, bulletins, resolved_as_of) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            r.acknowledged_by,
            r.comment,
            r.level,
            ts(r.opened_as_of),
            ts(r.last_as_of),
            r.bulletins,
            ts(r.resolved_as_of),
        ),
    )


def queue_event(
    conn: Any, event: AlertEvent, sinks: Sequence[str], *, category: str = "", county: str = ""
) -> None:
    """The event, one outbox row per sink, and its row in the trail, in `conn`'s
    transaction. An active silence matching the event keeps it out of every outbox
    (recorded all the same, and the trail names the silence). `category` (the item's)
    is kept in the stored payload, so the routes see at delivery what they saw here."""
    silences = active_silences(conn, event.at)
    silence = matching_silence(silences, event.rule, event.unit, event.item_id, event.level)
    if silence is not None:
        sinks = ()
    trail_event(conn, event, **({"silence_id": silence.id} if silence is not None else {}))
    cur = conn.execute(
        "INSERT INTO alert_events (id, key, kind, at, payload) VALUES (?, ?, ?, ?, ?)",
        (
            event.id,
            event.key,
            event.kind,
            ts(event.at),
            strict_json.dumps(
                {
                    **event.to_dict(),
                    **({"category": category} if category else {}),
                    **({"county": county} if county else {}),  # a city's roll-up, as category
                },
                ensure_ascii=False,
            ),
        ),
    )
    conn.executemany(
        "INSERT INTO alert_outbox (sink, seq) VALUES (?, ?)", [(s, cur.lastrowid) for s in sinks]
    )


def trail_event(conn: Any, event: AlertEvent, **extra: Any) -> None:
    """The engine's row in the trail for one of its events (actor `system`)."""
    after = {"event_id": event.id, "severity": event.severity, "message": event.message, **extra}
    append_trail(conn, event.at, SYSTEM, event.kind, event.key, after=after)


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


# -- the audit trail (留痕) and silences by matcher ---------------------------------------

SILENCE_MATCHERS = ("rule", "unit", "item", "level")  # the event fields a silence may match on


@dataclass(frozen=True, slots=True)
class Silence:
    """A silence by matcher: every alert event whose fields equal all of `matchers`
    (rule, unit, item) goes to no sink from `starts_at` through `until` (inclusive),
    unless it is expired early."""

    id: int
    matchers: Mapping[str, str]
    starts_at: datetime
    until: date
    author: str
    comment: str
    expired_at: datetime | None = None

    def active(self, at: datetime) -> bool:
        if self.expired_at is not None or at.date() > self.until:
            return False
        start = self.starts_at
        if (start.tzinfo is None) != (at.tzinfo is None):  # compare like with like
            start, at = start.replace(tzinfo=None), at.replace(tzinfo=None)
        return start <= at

    def matches(self, rule: str, unit: str, item_id: str, level: str = "") -> bool:
        """Every matcher equals the event's field; `level` is a name of core LEVELS."""
        fields = {"rule": rule, "unit": unit, "item": item_id, "level": level}
        return bool(self.matchers) and all(fields.get(k) == v for k, v in self.matchers.items())

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "matchers": dict(self.matchers),
            "from": self.starts_at.isoformat(timespec="seconds"),
            "until": self.until.isoformat(),
            "author": self.author,
            "comment": self.comment,
            "expired_at": None if self.expired_at is None else self.expired_at.isoformat(timespec="seconds"),
        }


def ensure_audit_schema(store: Store) -> None:
    """The trail and silences tables, and the who/why columns of alert_state (ALTER
    TABLE, guarded by a column check, so it applies in any order with other upgrades)."""
    store.ensure_schema("audit", 1, AUDIT_SCHEMA)
    with store.lock:
        have = {r[1] for r in store.conn.execute("PRAGMA table_info(alert_state)")}
        for column, kind in ALERT_PEOPLE_COLUMNS.items():
            if have and column not in have:
                store.conn.execute(f"ALTER TABLE alert_state ADD COLUMN {column} {kind}")


def append_trail(
    conn: Any,
    at: datetime,
    actor: str,
    kind: str,
    subject: str,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    comment: str = "",
) -> None:
    """One row of the trail, in the caller's transaction (so a step and its row commit together)."""

    def js(value: Mapping[str, Any] | None) -> str | None:
        return None if value is None else strict_json.dumps(dict(value), ensure_ascii=False, default=str)

    conn.execute(
        "INSERT INTO audit_trail (at, actor, kind, subject, before, after, comment) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at.isoformat(), actor, kind, subject, js(before), js(after), comment),
    )


def trail_rows(conn: Any, subject: str | None = None) -> list[dict[str, Any]]:
    """The trail, oldest first (of one subject when given)."""
    if subject is None:
        rows = conn.execute("SELECT * FROM audit_trail ORDER BY seq").fetchall()
    else:
        rows = conn.execute("SELECT * FROM audit_trail WHERE subject = ? ORDER BY seq", (subject,)).fetchall()
    return [
        {
            "seq": r["seq"],
            "at": r["at"],
            "actor": r["actor"],
            "kind": r["kind"],
            "subject": r["subject"],
            "before": None if r["before"] is None else json.loads(r["before"]),
            "after": None if r["after"] is None else json.loads(r["after"]),
            "comment": r["comment"],
        }
        for r in rows
    ]


def alert_snapshot(r: AlertRecord) -> dict[str, Any]:
    """What the trail keeps of an alert before and after a person's step."""
    return {
        "state": r.state,
        "severity": r.severity,
        "silenced_until": ts(r.silenced_until),
        "acknowledged_by": r.acknowledged_by,
    }


def silence_from_row(row: Mapping[str, Any]) -> Silence:
    return Silence(
        id=int(row["id"]),
        matchers=json.loads(row["matchers"]),
        starts_at=datetime.fromisoformat(row["starts_at"]),
        until=date.fromisoformat(row["until"]),
        author=row["author"],
        comment=row["comment"],
        expired_at=dt(row["expired_at"]),
    )


def all_silences(conn: Any) -> list[Silence]:
    return [silence_from_row(r) for r in conn.execute("SELECT * FROM silences ORDER BY id")]


def active_silences(conn: Any, at: datetime) -> list[Silence]:
    rows = conn.execute(
        "SELECT * FROM silences WHERE expired_at IS NULL AND until >= ?", (at.date().isoformat(),)
    )
    return [s for s in map(silence_from_row, rows) if s.active(at)]


def matching_silence(
    silences: Sequence[Silence], rule: str, unit: str, item_id: str, level: str = ""
) -> Silence | None:
    return next((s for s in silences if s.matches(rule, unit, item_id, level)), None)

"""A robot's per-minute quota and a server's "not before", kept in the store so that
every process delivering from it (the TUI, each cron `dashboard check`) shares them:
three runs in one minute send one minute's worth, and a 429 with `Retry-After: 120`
holds the next run too (issue 14). Times are wall-clock epoch seconds, the one clock
separate processes agree on.

Delivery is serialised across processes by `alert_store.delivery_lock`, so counting
the last minute's sends and recording one more need no further locking.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dashboard.sinks import DeliveryError
from dashboard.store import Store

log = logging.getLogger(__name__)

WINDOW = 60.0  # seconds: robots count their limits per minute
RATE_HOLD = 60.0  # a robot's rate-limit code says no time: wait out its minute
QUOTA_VERSION = 1
QUOTA_SCHEMA = """
CREATE TABLE IF NOT EXISTS sink_sends (
    sink TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sink_sends_by_sink ON sink_sends(sink, at);
CREATE TABLE IF NOT EXISTS sink_holds (
    sink TEXT PRIMARY KEY,
    not_before REAL NOT NULL,
    reason TEXT NOT NULL
);
"""


class QuotaWait(DeliveryError):
    """Not a failure: the quota or the server's "not before" keeps the rest of the
    outbox for a later pass (限流等待). `until` is when sending may resume."""

    def __init__(self, reason: str, until: float) -> None:
        self.reason = reason
        self.until = until
        at = datetime.fromtimestamp(until).astimezone()
        super().__init__(f"限流等待 rate-limited：{reason}，{at:%H:%M:%S} 后继续")


@dataclass(slots=True)
class Waiting:
    """A sink held back now: until when, and why."""

    until: datetime
    reason: str


@dataclass(slots=True)
class StoreQuota:
    """One sink's sends and hold in the store."""

    store: Store
    sink: str
    clock: Callable[[], float] = field(default=time.time)

    def take(self, rate: float) -> bool:
        """Record one send (a message, a group message counting as one). Raises
        `QuotaWait` while a hold is in force or the last minute's sends of every process
        have used `rate` (0: no limit). False when the store cannot be used: the caller
        then counts in memory, as before the store kept the quota."""
        now = self.clock()
        try:
            with self.store.transaction() as conn:
                conn.execute("DELETE FROM sink_sends WHERE sink = ? AND at <= ?", (self.sink, now - WINDOW))
                hold = conn.execute(
                    "SELECT not_before, reason FROM sink_holds WHERE sink = ?", (self.sink,)
                ).fetchone()
                wait: QuotaWait | None = None
                if hold is not None and float(hold[0]) > now:
                    wait = QuotaWait(str(hold[1]), float(hold[0]))
                elif rate > 0:
                    sent = [
                        float(r[0])
                        for r in conn.execute(
                            "SELECT at FROM sink_sends WHERE sink = ? ORDER BY at", (self.sink,)
                        )
                    ]
                    limit = math.ceil(rate)
                    if len(sent) >= limit:
                        # A slot frees when enough of the oldest sends are a minute old.
                        until = sent[len(sent) - limit] + WINDOW
                        wait = QuotaWait(f"已达每分钟 {rate:g} 条的发送上限", until)
                        _upsert_hold(conn, self.sink, until, wait.reason)
                    else:
                        conn.execute("INSERT INTO sink_sends (sink, at) VALUES (?, ?)", (self.sink, now))
        except sqlite3.Error as exc:
            log.warning("sink quota of %s not kept in the store: %s", self.sink, exc)
            return False
        if wait is not None:
            raise wait
        return True

    def hold(self, seconds: float, reason: str) -> QuotaWait:
        """Hold the sink `seconds` from now (never shortening a longer hold); returns the
        wait to raise."""
        until = self.clock() + max(0.0, seconds)
        try:
            with self.store.transaction() as conn:
                row = conn.execute(
                    "SELECT not_before FROM sink_holds WHERE sink = ?", (self.sink,)
                ).fetchone()
                if row is None or float(row[0]) < until:
                    _upsert_hold(conn, self.sink, until, reason)
        except sqlite3.Error as exc:
            log.warning("rate-limit hold of %s not kept in the store: %s", self.sink, exc)
        return QuotaWait(reason, until)


def _upsert_hold(conn: sqlite3.Connection, sink: str, until: float, reason: str) -> None:
    conn.execute(
        "INSERT INTO sink_holds (sink, not_before, reason) VALUES (?, ?, ?) "
        "ON CONFLICT(sink) DO UPDATE SET not_before = excluded.not_before, reason = excluded.reason",
        (sink, until, reason),
    )


def ensure_quota_schema(store: Store) -> bool:
    """The quota tables; False when the store cannot hold them (then nothing is bound)."""
    try:
        store.ensure_schema("sink_quota", QUOTA_VERSION, QUOTA_SCHEMA)
    except sqlite3.Error as exc:
        log.warning("sink quota tables unavailable: %s", exc)
        return False
    return True


def bind(sink: object, store: Store, name: str) -> None:
    """Give a sink's HTTP delivery the store's quota for `name`. A sink takes part by an
    `http` attribute with `use_quota` (the webhook and the chat robots: `HttpDelivery`);
    any other sink is left as it is."""
    use = getattr(getattr(sink, "http", None), "use_quota", None)
    if callable(use) and ensure_quota_schema(store):
        use(StoreQuota(store, name))


def waiting(store: Store, name: str, now: float | None = None) -> Waiting | None:
    """The hold on `name` in force now, for the sinks screen and `dashboard alerts`."""
    now = time.time() if now is None else now
    try:
        with store.lock:
            row = store.conn.execute(
                "SELECT not_before, reason FROM sink_holds WHERE sink = ?", (name,)
            ).fetchone()
    except sqlite3.Error:  # no table yet (nothing was ever held), or a damaged store
        return None
    if row is None or float(row[0]) <= now:
        return None
    return Waiting(datetime.fromtimestamp(float(row[0])).astimezone(), str(row[1]))

"""The scheduled change digest (`[digest] schedule = "MON 09:00"`, issue 15): at the
first alert evaluation on or after a slot (the TUI's refresh or `dashboard check`), one
`digest` event goes into the normal outbox, for `[digest] sinks` or, without them, the
sinks its routes give (`[[routes]] rule = "digest"`), and is delivered and rendered like
every alert event. The slot is recorded in the store in the same transaction as the
event, so restarts and several processes sharing the store send it once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from dashboard.alert_store import queue_event
from dashboard.contracts import ConfigError
from dashboard.core.alerts import AlertEvent, event_id
from dashboard.core.digest import Digest
from dashboard.digest_view import runtime_digest
from dashboard.runtime import Runtime

log = logging.getLogger(__name__)
RULE = "digest"
_DDL = """
CREATE TABLE IF NOT EXISTS digest_sends (
    slot TEXT PRIMARY KEY,  -- the scheduled local time, YYYY-MM-DDTHH:MM
    at TEXT NOT NULL,       -- when the event was queued
    event_id TEXT NOT NULL
);
"""
_LINES = 8  # items listed per section in the message; the rest are counted


def digest_message(digest: Digest) -> str:
    """The paragraph, then each changed section's items, a few per section."""
    lines = [digest.paragraph()]
    for heading, entries in digest.sections()[:4]:  # done, worse, better, moved
        if entries:
            shown = entries[:_LINES]
            more = f"（另有 {len(entries) - len(shown)} 项）" if len(entries) > len(shown) else ""
            lines.append(f"{heading.split()[0]}：" + "；".join(shown) + more)
    return "\n".join(lines)


def digest_event(digest: Digest, slot: datetime, now: datetime) -> AlertEvent:
    key = f"{RULE}:{slot:%Y-%m-%dT%H:%M}"
    return AlertEvent(
        id=event_id(key, "fired", now),
        key=key,
        rule=RULE,
        item_id="",
        severity="info",
        kind="fired",
        message=digest_message(digest),
        figures={
            "since": digest.since.isoformat() if digest.since else None,
            "until": digest.until.isoformat(),
            "newly_done": len(digest.newly_done),
            "worse": len(digest.worse),
            "better": len(digest.better),
            "streaks": [e.id for e in digest.streaks],
        },
        at=now,
        unit="变化摘要 digest",  # the robots' title line
    )


def queue_scheduled_digest(runtime: Runtime, now: datetime) -> AlertEvent | None:
    """Queue the digest of the slot due at `now` unless the store has it already; the
    event queued, or None. Raises sqlite3.Error as the alert engine's own writes do."""
    schedule = runtime.config.digest_schedule
    slot = schedule.due(now) if schedule is not None else None
    if slot is None:
        return None
    store = runtime.store
    store.ensure_schema("digest_sends", 1, _DDL)
    slot_text = f"{slot:%Y-%m-%dT%H:%M}"
    with store.lock:
        if store.conn.execute("SELECT 1 FROM digest_sends WHERE slot = ?", (slot_text,)).fetchone():
            return None  # sent (cheap check before building the digest)
    try:
        digest = runtime_digest(runtime)
    except ConfigError as exc:  # a past month the working-day calendar lacks: say so, send nothing
        log.warning("变化摘要未发送 digest not sent: %s", exc)
        return None
    event = digest_event(digest, slot, now)
    sinks = runtime.config.digest_sinks or runtime.alerts.sinks_for(event)
    with store.transaction() as conn:
        taken = conn.execute(
            "INSERT OR IGNORE INTO digest_sends (slot, at, event_id) VALUES (?, ?, ?)",
            (slot_text, now.isoformat(timespec="seconds"), event.id),
        ).rowcount
        if not taken:
            return None  # another process queued it between the check and here
        queue_event(conn, event, sinks)
    return event

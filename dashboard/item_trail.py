"""One item's audit trail (留痕) as the item screen shows it: the rows of its alerts, of
the silences by matcher that cover them and of its 督办 cases, merged in the order they
were written, each summed up in words. Headless: the UI reads it through the runtime."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard import cases
from dashboard.alert_store import all_silences, trail_rows
from dashboard.runtime import Runtime

KIND_LABELS: dict[str, str] = {
    "fired": "触发 fired",
    "escalated": "升级 escalated",
    "repeat": "重发 repeat",
    "resolved": "解除 resolved",
    "acknowledged": "确认 acknowledged",
    "silenced": "静默 silenced",
    "silence_added": "新建静默 silence added",
    "silence_expired": "结束静默 silence expired",
    "case_opened": "立案 opened",
    "case_noted": "备注 noted",
    "case_rectified": "已整改 rectified",
    "case_closed": "销号 closed",
    "case_reopened": "重新督办 reopened",
    "case_overdue": "逾期 overdue",
}

# The fields whose change a row's before → after says, in this order.
_SHOWN = ("state", "level_label", "severity", "silenced_until", "acknowledged_by", "deadline", "until")


def item_trail(runtime: Runtime, item_id: str) -> list[dict[str, Any]]:
    """The trail rows of this item's alerts, matching silences and cases, oldest first."""
    records = runtime.alert_records(item_id=item_id)
    subjects = {str(r.key) for r in records}
    store = runtime.store
    with store.lock:
        conn = store.conn
        subjects |= {c.subject for c in cases.list_cases(conn) if str(c.item_id) == item_id}
        for s in all_silences(conn):
            if any(s.matches(r.rule, r.unit, r.item_id, r.level_name) for r in records):
                subjects.add(f"silence:{s.id}")
        rows = [row for subject in sorted(subjects) for row in trail_rows(conn, subject)]
    return sorted(rows, key=lambda r: int(r["seq"]))


def change_text(row: Mapping[str, Any]) -> str:
    """What a row changed: `state open → acknowledged`, or what it recorded (a message,
    a note, a matcher) when there is no before."""
    before, after = row.get("before") or {}, row.get("after") or {}
    if before:
        parts = [
            f"{_value(before.get(k))} → {_value(after.get(k))}"
            for k in _SHOWN
            if k in after and before.get(k) != after.get(k)
        ]
        return "；".join(parts)
    if "message" in after:
        held = "（静默 #{}，未推送）".format(after["silence_id"]) if after.get("silence_id") else ""
        return f"{after['message']}{held}"
    if "matchers" in after:
        matchers = " ".join(f"{k}={v}" for k, v in dict(after["matchers"]).items())
        return f"{matchers} 至 {after.get('until', '')}"
    if "text" in after:
        return str(after["text"])
    if "deadline" in after:
        return f"限期 {after['deadline']}：{after.get('action', '')}"
    return ""


def _value(value: Any) -> str:
    return "—" if value in (None, "") else str(value)

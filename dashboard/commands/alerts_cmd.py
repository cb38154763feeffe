"""`dashboard alerts` lists alerts (open, acknowledged, silenced, resolved) and the
sinks' outboxes; `dashboard ack KEY [--until DATE | --for 7d]` acknowledges or
silences one. Both read and write the store only: no source is fetched, nothing is sent.

Exit codes: 0 ok; 1 no such alert (ack); 2 configuration or usage error."""

from __future__ import annotations

import argparse
import difflib
import sys
from datetime import date
from typing import Any

from dashboard import strict_json
from dashboard.commands.common import UsageError, date_arg, open_runtime, table_lines, until_from_duration
from dashboard.core.alerts import SEVERITY_LABELS, STATE_LABELS, AlertRecord

STATES = ("open", "acknowledged", "silenced", "resolved")
EXIT_NOT_FOUND = 1


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("alerts", parents=[common], help="列出预警 list alerts and pending deliveries")
    p.add_argument("--json", action="store_true", help="输出一个 JSON 对象 print one JSON object")
    p.add_argument(
        "--state",
        choices=STATES,
        action="append",
        help="只列出该状态（可重复）only this state (repeatable): open | acknowledged | silenced | resolved",
    )
    p.set_defaults(handler=run_alerts)
    a = sub.add_parser("ack", parents=[common], help="确认预警 acknowledge an alert (or silence it --until)")
    a.add_argument("key", metavar="KEY", help="预警键，如 severe:45 (see `dashboard alerts`)")
    when = a.add_mutually_exclusive_group()
    when.add_argument("--until", metavar="YYYY-MM-DD", help="静默到该日（含）silence through this date")
    when.add_argument(
        "--for",
        dest="for_",
        metavar="DURATION",
        help="静默一段时间，如 7d、2w（到今天加该天数，含）silence for a while, e.g. 7d",
    )
    a.set_defaults(handler=run_ack)


def record_dict(r: AlertRecord, today: date) -> dict[str, Any]:
    def ts(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "key": r.key,
        "rule": r.rule,
        "item_id": r.item_id,
        "item_name": r.item_name,
        "unit": r.unit,
        "severity": r.severity,
        "state": r.effective_state(today),
        "message": r.message,
        "figures": dict(r.figures),
        "first_fired": ts(r.first_fired),
        "last_sent": ts(r.last_sent),
        "resolved_at": ts(r.resolved_at),
        "silenced_until": ts(r.silenced_until),
    }


def run_alerts(args: argparse.Namespace) -> int:
    _config, runtime = open_runtime(args)
    today = date.today()
    records = runtime.alert_records(args.state)
    sinks = runtime.sink_status()
    if args.json:
        print(
            strict_json.dumps(
                {
                    "alerts": [record_dict(r, today) for r in records],
                    "sinks": [
                        {"name": s.name, "type": s.type, "pending": s.pending, "error": s.last_error or None}
                        for s in sinks
                    ],
                    "pending_delivery": sum(s.pending for s in sinks),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if not records:
        print("没有预警 no alerts")
    rows = []
    for r in records:
        state = r.effective_state(today)
        until = f" 至 {r.silenced_until}" if state == "silenced" and r.silenced_until else ""
        when = r.resolved_at if state == "resolved" and r.resolved_at else r.first_fired
        severity = SEVERITY_LABELS.get(r.severity, r.severity)
        rows.append([STATE_LABELS[state] + until, severity, r.key, f"{when:%Y-%m-%d %H:%M}", r.message])
    for line in table_lines(rows):
        print(line)
    for s in sinks:
        if s.pending or s.last_error:
            print(
                f"推送 {s.name} ({s.type}): 待发 pending {s.pending}"
                + (f"  ✗ {s.last_error}" if s.last_error else "")
            )
    return 0


def run_ack(args: argparse.Namespace) -> int:
    today = date.today()
    if args.until == "auto":
        raise UsageError("--until", "应为日期", expected="YYYY-MM-DD")
    until = date_arg(args.until, "--until")
    if args.for_ is not None:
        until = until_from_duration(args.for_, today)
    if until is not None and until < today:
        # Silences run on the calendar, not on the data's as-of date: a past date would do nothing.
        raise UsageError(
            "--until",
            f"日期 {until} 已经过去（今天是 {today}），静默到过去的日期不会生效",
            expected="今天或以后的日期 YYYY-MM-DD，或用 --for 7d 静默 7 天",
        )
    _config, runtime = open_runtime(args)
    if runtime.acknowledge(args.key, until):
        done = f"已静默至 {until}（含）silenced through {until}" if until else "已确认 acknowledged"
        print(f"{args.key}: {done}")
        return 0
    keys = [r.key for r in runtime.alert_records(["open", "acknowledged", "silenced"])]
    close = difflib.get_close_matches(args.key, keys, n=3)
    hint = f"；是否想写 {'、'.join(close)}？" if close else ""
    print(f"没有可确认的预警 {args.key!r}{hint}（见 `dashboard alerts`）", file=sys.stderr)
    return EXIT_NOT_FOUND

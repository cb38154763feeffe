"""`dashboard check`: load every source once, evaluate, print a summary (or JSON)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime
from typing import Any, NoReturn

from dashboard import strict_json
from dashboard.commands.common import open_runtime, table_lines
from dashboard.core.alerts import AlertEvent
from dashboard.core.items import STATUS_LABELS, Status
from dashboard.core.parse import format_percent
from dashboard.core.rollup import by_county
from dashboard.history import PastItems, looks_back, past_snapshot
from dashboard.runtime import Runtime, Snapshot

# Text lists stop here: at 100,000 items a cron mail of 53,000 behind lines helps no one.
TEXT_LIMIT = 20


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("check", parents=[common], help="载入全部数据源一次并汇总 load once and summarise")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="数据截止日期 as-of date")
    p.add_argument("--json", action="store_true", help="输出一个 JSON 对象 print one JSON object")
    p.add_argument(
        "--no-alerts",
        action="store_true",
        help="不评估、不推送预警 (what-if run); 与配置不同的 --as-of 也不推送",
    )
    listing = p.add_mutually_exclusive_group()
    listing.add_argument(
        "--limit",
        type=_count,
        default=TEXT_LIMIT,
        metavar="N",
        help=f"文字输出最多列出 N 个滞后项目与 N 条预警（默认 {TEXT_LIMIT}）list at most N behind items and alerts",
    )
    listing.add_argument(
        "--all", action="store_true", help="列出全部滞后项目与预警 list every one (--json always does)"
    )
    p.set_defaults(handler=run)


def _count(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是整数 not a number: {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"不能为负数 must be 0 or more: {value!r}")
    return n


def run(args: argparse.Namespace) -> int:
    config, runtime = open_runtime(args)
    # Looking at another date is a what-if: it must not resolve or fire today's alerts.
    what_if = runtime.as_of_override is not None and config.as_of not in (None, runtime.as_of_override)
    # A date history holds points before and after is a look back (历史回看): the items as they
    # stood then, from history; like a what-if it fires nothing and records nothing.
    day = runtime.as_of_override
    lookback = day is not None and looks_back(runtime.store, day)
    if what_if or lookback:
        runtime.record_history = False  # history is by the data's as-of date, not a chosen one
    alerts = not (getattr(args, "no_alerts", False) or what_if or lookback)
    snap = asyncio.run(runtime.cycle(alerts=alerts))
    past: PastItems | None = None
    if lookback and day is not None:
        found = past_snapshot(runtime, day)
        if found is not None:
            snap, past = found
    report = build_report(runtime, snap)
    report["alerts"]["evaluated"] = alerts
    # Added keys: whether the figures are history's, and what it lacked.
    report["history"] = past is not None
    if past is not None:
        report["history_note"] = past.note
        report["history_without_figure"] = [i.id for i in past.without_figure]
    if args.json:
        print(strict_json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(
            render_text(
                report, limit=None if getattr(args, "all", False) else getattr(args, "limit", TEXT_LIMIT)
            )
        )
    code = 0 if all(s["ok"] for s in report["sources"]) else 3
    if runtime.abandoned():
        _exit_now(runtime, code)
    return code


def _exit_now(runtime: Runtime, code: int) -> NoReturn:
    """Exit without waiting for fetches given up on: a plugin's own non-daemon thread
    or thread pool would otherwise hold the interpreter at exit, past the timeout."""
    try:
        runtime.close()
    except Exception as exc:  # closing the store must not keep us here either
        print(f"关闭存储失败 closing the store failed: {exc}", file=sys.stderr)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader is gone; exit as main() would
        code = 0
    sys.stderr.flush()
    os._exit(code)


def build_report(runtime: Runtime, snap: Snapshot) -> dict[str, Any]:
    """The JSON contract of `dashboard check --json` (keys are only ever added)."""
    return {
        "as_of": snap.as_of.isoformat(),
        # Where the as-of came from: "config" | "data" (title rows, 更新时间) | "today" (none stated).
        "as_of_source": snap.as_of_source,
        "as_of_note": snap.as_of_note,
        "expected": round(snap.expected, 6),
        # How `expected` is counted: method, the working-day calendar in use, a fallback's warning.
        "calendar": runtime.calendar_report(),
        "items": len(snap.evaluated),
        "by_status": snap.by_status,
        # A city's roll-up: county → {items, by_status}, by the sources' `county` key ({} without).
        "by_county": by_county(snap.evaluated, [s.spec.county for s in snap.sources]),
        "sources": [
            {
                "name": s.name,
                "type": s.spec.type,
                "ok": bool(s.ok),
                "items": len(s.items),
                "error": s.error or None,
                "warnings": [str(w) for w in s.warnings],
                # When the items were last loaded; a failing source keeps its last good items.
                "last_attempt": _iso(s.last_attempt),
                "last_success": _iso(s.last_success),
                "stale": s.is_stale(),
                "failures": s.failures,  # consecutive failed fetches (source_stale's `failures`)
            }
            for s in snap.sources
        ],
        "behind": [
            {
                "id": e.item.id,
                "name": e.item.name,
                "unit": e.item.unit,
                "ratio": None if e.item.ratio is None else round(e.item.ratio, 6),
                "expected": round(e.expected, 6),
                "status": e.status.value,
            }
            for e in snap.behind
        ],
        "alerts": alert_report(runtime, snap),
        # The store's state: ok, path, error ("存储不可用" when not ok), notes (rows skipped, repairs).
        "store": runtime.store_report(),
    }


def alert_report(runtime: Runtime, snap: Snapshot) -> dict[str, Any]:
    """This run's alert events (each key, rule, item_id, severity, message, kind,
    figures, ...) and how many still wait in the sinks' outboxes."""
    events: list[AlertEvent] = [*snap.fired, *snap.resolved]
    return {
        "fired": [e.to_dict() for e in events if e.kind != "resolved"],
        "resolved": [e.to_dict() for e in events if e.kind == "resolved"],
        "pending_delivery": runtime.alerts.pending_count(),
        "rule_errors": dict(runtime.alerts.rule_errors),  # plugin rules that raised, by name
        "error": runtime.alert_error or None,  # the store could not be read or written
        "held": len(runtime.alerts.held),  # decisions waiting for the store, sent late (alert_guard)
        "not_pushed": runtime.alerts.not_pushed,  # over [alerts] max_per_cycle: in one summary event
        "sinks": [
            {
                "name": s.name,
                "type": s.type,
                "pending": s.pending,
                "error": s.last_error or None,
                "waiting": s.waiting or None,  # 限流等待: the quota or the server holds the rest
            }
            for s in runtime.sink_status()
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _rest(shown: int, total: int, what: str) -> list[str]:
    """The line that says how many a limited list left out (none when it left none)."""
    if total <= shown:
        return []
    return [f"  …另有 {total - shown} {what} ({total - shown} more; --all lists all)"]


def render_text(report: dict[str, Any], limit: int | None = TEXT_LIMIT) -> str:
    """The summary for people; `limit` caps the behind items and the alert events listed
    (None lists every one), each cut list ending with how many it left out."""
    lines = [
        f"数据截止 as of {report['as_of']}    序时进度 expected {format_percent(report['expected'])}",
        f"项目总数 items {report['items']}",
    ]
    calendar = report.get("calendar") or {}
    if calendar.get("calendar"):
        lines.insert(1, f"序时进度按工作日 by working days：{calendar['calendar']}")
    if calendar.get("warning"):
        lines.insert(1, f"! {calendar['warning']}")
    if report.get("history"):  # the look back's own line first (it opens with `历史回看 DATE`)
        lines.insert(0, str(report["history_note"]))
    lines += table_lines(
        [[STATUS_LABELS[Status(key)], key, str(count)] for key, count in report["by_status"].items()],
        "<<>",
        indent="  ",
    )
    counties = report.get("by_county") or {}
    if counties:
        lines.append("县市区 by county:")
        lines += table_lines(
            [
                [
                    name,
                    f"{c['items']} 项",
                    *(f"{STATUS_LABELS[Status(k)]} {n}" for k, n in c["by_status"].items()),
                ]
                for name, c in counties.items()
            ],
            indent="  ",
        )
    store = report.get("store") or {}
    if store.get("error"):
        lines.append(f"存储不可用：{store['error']}  (store unavailable; data shown, alerts held)")
    for note in store.get("notes", []):
        lines.append(f"  ! 存储 store: {note}")
    lines.append("数据源 sources:")
    for s, line in zip(
        report["sources"],
        table_lines(
            [
                ["✓" if s["ok"] else "✗", s["name"], f"({s['type']})", f"{s['items']} 项", s["error"] or ""]
                for s in report["sources"]
            ],
            "<<<><",
            indent="  ",
        ),
        strict=True,
    ):
        lines.append(line)
        if s.get("stale") and s["items"]:
            lines.append(
                f"      ! 显示的是上次成功载入的数据 last good data from {s.get('last_success') or '—'}"
            )
        for w in s["warnings"][:20]:
            lines.append(f"      ! {w}")
    behind = report["behind"]
    if behind:
        shown = behind if limit is None else behind[:limit]
        lines.append("滞后项目 behind:")
        lines += table_lines(
            [
                [
                    f"[{b['id']}]",
                    b["name"],
                    b["unit"],
                    format_percent(b["ratio"]),
                    f"序时 {format_percent(b['expected'])}",
                ]
                for b in shown
            ],
            "<<<>>",
            indent="  ",
        )
        lines += _rest(len(shown), len(behind), "项")
    alerts = report.get("alerts")
    if alerts and not alerts.get("evaluated", True):
        lines.append("预警 alerts: 本次未评估、未推送 not evaluated (--no-alerts, or --as-of another date)")
    elif alerts:
        lines.append(
            f"预警 alerts: 新触发 fired {len(alerts['fired'])}，解除 resolved {len(alerts['resolved'])}，"
            f"待推送 pending {alerts['pending_delivery']}"
        )
        if alerts.get("error"):
            lines.append(f"  ! {alerts['error']}")
        events = [*alerts["fired"], *alerts["resolved"]]
        shown = events if limit is None else events[:limit]
        lines += table_lines([[f"[{a['severity']}]", a["key"], a["message"]] for a in shown], indent="  ")
        lines += _rest(len(shown), len(events), "条")
        for sink in alerts["sinks"]:
            if sink["error"]:
                lines.append(
                    f"  ✗ 推送 {sink['name']} ({sink['type']}) 待发 {sink['pending']}: {sink['error']}"
                )
            elif sink.get("waiting") and sink["pending"]:
                lines.append(
                    f"  … 推送 {sink['name']} ({sink['type']}) 待发 {sink['pending']}: 限流等待 {sink['waiting']}"
                )
    return "\n".join(lines)

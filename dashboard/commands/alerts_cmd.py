"""`dashboard alerts` lists alerts (open, acknowledged, silenced, resolved), the
silences and the sinks' outboxes; `dashboard ack KEY [--until DATE | --for 7d] [--by NAME]
[--comment TEXT]` acknowledges or silences one; `dashboard silence` silences by matcher
(rule, unit, item), lists and expires silences. All read and write the store only: no
source is fetched, nothing is sent. Every change is a row in the audit trail (留痕).

Exit codes: 0 ok; 1 no such alert (ack); 2 configuration or usage error."""

from __future__ import annotations

import argparse
import difflib
import sys
from datetime import date
from typing import Any

from dashboard import strict_json
from dashboard.alert_store import Silence, matching_silence
from dashboard.alerting import now_local
from dashboard.commands.common import UsageError, date_arg, open_runtime, table_lines, until_from_duration
from dashboard.core.alerts import LEVEL_LABELS, LEVELS, SEVERITY_LABELS, STATE_LABELS, AlertRecord

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
    a.add_argument("--by", metavar="NAME", help="确认人（默认 [user] name，其次登录名）who acknowledges")
    a.add_argument("--comment", metavar="TEXT", default="", help="说明 why (kept in the audit trail)")
    a.set_defaults(handler=run_ack)
    sl = sub.add_parser(
        "silence", parents=[common], help="按条件静默预警 silence alerts by matcher (rule, unit, item)"
    )
    sl.add_argument("--rule", metavar="RULE", help="规则名，如 missing_update")
    sl.add_argument("--unit", metavar="UNIT", help="牵头单位 lead unit")
    sl.add_argument("--item", metavar="ID", help="项目编号 item id")
    sl.add_argument(
        "--level", metavar="LEVEL", help="升级级别 提醒|预警|督办 (remind|warn|supervise): only events at it"
    )
    span = sl.add_mutually_exclusive_group()
    span.add_argument("--until", metavar="YYYY-MM-DD", help="静默到该日（含）through this date")
    span.add_argument("--for", dest="for_", metavar="DURATION", help="静默一段时间，如 7d、2w")
    sl.add_argument("--by", metavar="NAME", help="静默人（必填）who silences (required)")
    sl.add_argument("--comment", metavar="TEXT", help="原因（必填）why (required)")
    sl.add_argument("--list", action="store_true", help="列出静默 list the silences")
    sl.add_argument("--expire", metavar="ID", type=int, help="提前结束一个静默 end a silence early")
    sl.add_argument("--json", action="store_true", help="输出 JSON（与 --list 同用）print JSON (with --list)")
    sl.set_defaults(handler=run_silence)


def record_dict(r: AlertRecord, today: date, silenced_by: int | None = None) -> dict[str, Any]:
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
        "acknowledged_by": r.acknowledged_by or None,
        "comment": r.comment or None,
        "silenced_by": silenced_by,  # the id of the silence by matcher holding its events back
        "level": r.level_name,  # the escalation ladder's step: remind | warn | supervise
        "level_label": r.level_label,  # 提醒 | 预警 | 督办
    }


def run_alerts(args: argparse.Namespace) -> int:
    _config, runtime = open_runtime(args)
    today = date.today()
    records = runtime.alert_records(args.state)
    sinks = runtime.sink_status()
    silences = runtime.alerts.silences()
    now = now_local()
    active = [x for x in silences if x.active(now)]
    held = {
        r.key: m.id
        for r in records
        if (m := matching_silence(active, r.rule, r.unit, r.item_id, r.level_name))
    }
    if args.json:
        print(
            strict_json.dumps(
                {
                    "alerts": [record_dict(r, today, held.get(r.key)) for r in records],
                    "silences": [x.to_dict() for x in silences],
                    "sinks": [
                        {
                            "name": s.name,
                            "type": s.type,
                            "pending": s.pending,
                            "error": s.last_error or None,
                            "waiting": s.waiting or None,  # 限流等待
                        }
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
        label = STATE_LABELS[state] + until + (f" 静默 #{held[r.key]}" if r.key in held else "")
        rows.append([label, severity, r.key, f"{when:%Y-%m-%d %H:%M}", r.message])
    for line in table_lines(rows):
        print(line)
    for s in sinks:
        if s.pending or s.last_error:
            wait = f"  限流等待 至 {s.next_attempt:%H:%M:%S}" if s.waiting and s.next_attempt else ""
            print(
                f"推送 {s.name} ({s.type}): 待发 pending {s.pending}"
                + (f"  ✗ {s.last_error}" if s.last_error else wait)
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
    if runtime.acknowledge(args.key, until, by=(args.by or "").strip(), comment=args.comment.strip()):
        done = f"已静默至 {until}（含）silenced through {until}" if until else "已确认 acknowledged"
        print(f"{args.key}: {done}")
        return 0
    keys = [r.key for r in runtime.alert_records(["open", "acknowledged", "silenced"])]
    close = difflib.get_close_matches(args.key, keys, n=3)
    hint = f"；是否想写 {'、'.join(close)}？" if close else ""
    print(f"没有可确认的预警 {args.key!r}{hint}（见 `dashboard alerts`）", file=sys.stderr)
    return EXIT_NOT_FOUND


def _required(value: str | None, key: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise UsageError(key, f"必须写明{what}", expected=f"{key} TEXT")
    return text


def run_silence(args: argparse.Namespace) -> int:
    """`dashboard silence --rule R [--unit U] [--item ID] --until DATE|--for 7d --by NAME
    --comment TEXT`; `--list [--json]`; `--expire ID --by NAME`."""
    today = date.today()
    if args.list:
        _config, runtime = open_runtime(args)
        return _print_silences(runtime.alerts.silences(), args.json)
    if args.expire is not None:
        by = _required(args.by, "--by", "是谁结束静默 who")
        _config, runtime = open_runtime(args)
        ended = runtime.alerts.expire_silence(args.expire, by=by, comment=(args.comment or "").strip())
        if ended is None:
            print(f"没有可结束的静默 #{args.expire}（见 `dashboard silence --list`）", file=sys.stderr)
            return EXIT_NOT_FOUND
        print(f"静默 #{ended.id} 已结束 expired")
        return 0
    matchers = {"rule": args.rule, "unit": args.unit, "item": args.item, "level": _level(args.level)}
    if not any((v or "").strip() for v in matchers.values()):
        raise UsageError(
            "--rule", "至少给出一个条件", expected="--rule RULE、--unit UNIT、--item ID 或 --level LEVEL"
        )
    if args.until is None and args.for_ is None:
        raise UsageError("--until", "必须写明静默到何时", expected="--until YYYY-MM-DD 或 --for 7d")
    until = date_arg(args.until, "--until") if args.until else until_from_duration(args.for_, today)
    if until is None or until < today:
        raise UsageError("--until", f"日期 {until} 已经过去（今天是 {today}）", expected="今天或以后的日期")
    by = _required(args.by, "--by", "静默人 who")
    comment = _required(args.comment, "--comment", "原因 why")
    _config, runtime = open_runtime(args)
    if args.rule and args.rule not in runtime.alerts.rules:
        known = list(runtime.alerts.rules)
        close = difflib.get_close_matches(args.rule, known, n=1)
        hint = f"，是否想写 {close[0]}？" if close else ""
        raise UsageError("--rule", f"未知的预警规则 {args.rule!r}{hint}", expected="、".join(known))
    silence = runtime.alerts.add_silence(
        {k: v.strip() for k, v in matchers.items() if v and v.strip()}, until, by=by, comment=comment
    )
    print(f"已建静默 #{silence.id}，至 {until}（含）silenced through {until}: {_matchers_text(silence)}")
    return 0


def _level(value: str | None) -> str | None:
    """A level by its Chinese or English name → its name in core LEVELS."""
    if value is None or not value.strip():
        return None
    names = {**{label: name for name, label in LEVEL_LABELS.items()}, **{n: n for n in LEVELS}}
    found = names.get(value.strip().lower()) or names.get(value.strip())
    if found is None:
        raise UsageError(
            "--level", f"未知的级别 {value!r}", expected="提醒|预警|督办 或 remind|warn|supervise"
        )
    return found


def _matchers_text(silence: Silence) -> str:
    return " ".join(f"{k}={v}" for k, v in silence.matchers.items())


def _print_silences(silences: list[Silence], as_json: bool) -> int:
    if as_json:
        print(strict_json.dumps({"silences": [s.to_dict() for s in silences]}, ensure_ascii=False, indent=2))
        return 0
    if not silences:
        print("没有静默 no silences")
        return 0
    now = now_local()
    rows = []
    for s in silences:
        state = "生效" if s.active(now) else "已结束" if s.expired_at else "未生效/已过期"
        rows.append([f"#{s.id}", state, _matchers_text(s), f"至 {s.until}", s.author, s.comment])
    for line in table_lines(rows):
        print(line)
    return 0

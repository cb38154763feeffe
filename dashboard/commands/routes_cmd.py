"""`dashboard routes [--test ...]`: the configured routes, and for a sample event (or
an alert of the store, `--event KEY`) which routes match and which sinks get it."""

from __future__ import annotations

import argparse

from dashboard import strict_json
from dashboard.alerting import now_local
from dashboard.commands.common import UsageError, open_runtime, table_lines
from dashboard.core.alerts import LEVEL_LABELS
from dashboard.routes import LEVEL_NAMES, matching_routes, route_sinks, sink_group_by


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "routes", parents=[common], help="列出预警路由，或试算一条事件去哪些推送 list routes, test one"
    )
    p.add_argument("--test", action="store_true", help="试算：哪些路由匹配、哪些推送收到")
    p.add_argument("--event", metavar="KEY", help="用存储中的一条预警（如 severe:45）试算")
    p.add_argument("--rule", default="", help="规则名，如 severe")
    p.add_argument("--unit", default="", help="牵头单位")
    p.add_argument("--level", default="", help="提醒 | 预警 | 督办")
    p.add_argument("--severity", default="", help="info | warning | critical")
    p.add_argument("--category", default="", help="项目类别")
    p.add_argument("--json", action="store_true", help="JSON 输出")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    _, runtime = open_runtime(args)
    engine = runtime.alerts
    sinks = [s.spec.name for s in engine.sinks]
    types = {s.spec.name: s.spec.type for s in engine.sinks}
    if not (args.test or args.event):
        listed = [
            {
                "index": r.index,
                "match": {k: list(v) for k, v in r.matchers.items()},
                "sinks": list(r.sinks),
                "continue": r.cont,
                "group_by": None if r.group_by is None else list(r.group_by),
                "mute": [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in r.mute]
                + (["holidays"] if r.holidays else []),
            }
            for r in engine.routes
        ]
        if args.json:
            print(strict_json.dumps({"routes": listed, "sinks": sinks}, ensure_ascii=False, indent=2))
        elif not engine.routes:
            print("未配置路由：每条事件发往全部推送 no routes: every event goes to every sink")
        else:
            for route in engine.routes:
                print(route.describe())
        return 0
    fields = {"rule": args.rule, "unit": args.unit, "level": "", "severity": args.severity}
    fields["category"] = args.category
    if args.event:
        record = engine.record(args.event)
        if record is None:
            raise UsageError(
                "--event", f"存储中没有预警 {args.event!r}", expected="dashboard alerts 列出的键"
            )
        fields.update(rule=record.rule, unit=record.unit, level=record.level_name, severity=record.severity)
    if args.level:
        if args.level not in LEVEL_NAMES:
            raise UsageError("--level", f"没有这个级别 {args.level!r}", expected="提醒、预警、督办")
        fields["level"] = LEVEL_NAMES[args.level]
    found = matching_routes(engine.routes, fields)
    got = route_sinks(engine.routes, fields, sinks)
    groups = {name: list(sink_group_by(engine.routes, name, types[name])) for name in got}
    if args.json:
        result = {
            "event": fields,
            "routes": [r.index for r in found],
            "sinks": got,
            "group_by": groups,
        }
        print(strict_json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    labels = {**fields, "level": LEVEL_LABELS.get(fields["level"], fields["level"])}
    shown = "，".join(f"{k} = {v}" for k, v in labels.items() if v) or "（空事件）"
    print(f"事件 event: {shown}")
    if found:
        print("匹配的路由 matching routes:")
        for route in found:
            print(f"  {route.describe()}")
    else:
        print("没有路由匹配：发往全部推送 no route matches: every sink")
    if engine.day_off is not None and any(r.holidays for r in found):
        today = now_local().date()
        off = "节假日，按节假日免打扰的路由今天不发送" if engine.day_off(today) else "工作日"
        print(f"今天 today {today} 为{off}（工作日历 {engine.day_off.calendar.name}）")
    rows = [["推送 sink", "类型 type", "合并 group_by"]]
    rows += [[name, types[name], ",".join(groups[name]) or "-"] for name in got]
    for line in table_lines(rows):
        print(line)
    return 0

"""`dashboard plugins`: the loaded plugins, their kinds and where they came from.

`--trace` also writes one line per plugin load and hook call, with its duration, to
stderr (`DASHBOARD_TRACE=1` does the same for any command; see docs/plugins.md).
"""

from __future__ import annotations

import argparse

from dashboard import strict_json
from dashboard.commands.common import table_lines
from dashboard.config import load_config
from dashboard.plugin_trace import Tracer
from dashboard.plugins import PluginManager


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("plugins", parents=[common], help="列出已加载的插件 list loaded plugins")
    p.add_argument("--json", action="store_true", help="JSON 输出")
    p.add_argument(
        "--trace",
        action="store_true",
        help="把每次插件载入与钩子调用及其耗时写到标准错误 log each hook call and its duration to stderr",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    # Without --trace the environment still decides (DASHBOARD_TRACE / DASHBOARD_TRACE_FILE).
    trace = Tracer() if args.trace else None
    records = PluginManager(config.plugins_dir, trace=trace).describe()
    if args.json:
        print(
            strict_json.dumps(
                [
                    {
                        "name": r.name,
                        "kinds": r.kinds,
                        "provides": r.provides,
                        "origin": r.origin,
                        "error": r.error or None,
                    }
                    for r in records
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    rows = [["插件 plugin", "类型 kinds", "提供 provides", "来源 origin"]]
    rows += [[r.name, ",".join(r.kinds) or "-", ",".join(r.provides) or "-", r.origin] for r in records]
    for line, r in zip(table_lines(rows), [None, *records], strict=True):
        print(line)
        if r is not None and r.error:
            print(f"    ✗ 错误 error: {r.error}")
    return 0

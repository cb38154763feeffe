"""`dashboard plugins`: the loaded plugins, their kinds and where they came from."""

from __future__ import annotations

import argparse

from dashboard import strict_json
from dashboard.commands.common import table_lines
from dashboard.config import load_config
from dashboard.plugins import PluginManager


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("plugins", parents=[common], help="列出已加载的插件 list loaded plugins")
    p.add_argument("--json", action="store_true", help="JSON 输出")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    records = PluginManager(config.plugins_dir).describe()
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

"""`dashboard export`: write the items, units or alerts view to a file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from dashboard.commands.common import open_runtime
from dashboard.contracts import ConfigError
from dashboard.exporting import ExportError, export_to_folder, export_view, exporters, lookup
from dashboard.views import VIEW_NAMES, build_view


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "export",
        parents=[common],
        help="导出视图 export a view (items|units|alerts) to csv/xlsx/md/html/json",
        description="载入全部数据源一次，把一个视图导出为文件。不给 -o 时写入配置的导出文件夹 ([export] dir)。",
    )
    p.add_argument("--view", choices=VIEW_NAMES, default="items", help="视图 view (默认 items)")
    p.add_argument(
        "--format",
        metavar="FORMAT",
        help="格式 csv|xlsx|md|html|json（或插件提供的其他格式；省略时按 -o 的扩展名）",
    )
    p.add_argument("--filter", metavar="TEXT", help="筛选 filter: 名称、牵头单位、类别或项目中包含的文字")
    p.add_argument("-o", "--output", metavar="PATH", help="输出文件（或已有文件夹）output file or folder")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="数据截止日期 as-of date")
    p.set_defaults(handler=run)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    suffix = Path(args.output).suffix.lstrip(".") if args.output else ""
    if not suffix:
        raise ConfigError(
            "--format", "请指定导出格式，或在 -o 中写出扩展名", expected="csv|xlsx|md|html|json"
        )
    return suffix


def run(args: argparse.Namespace) -> int:
    config, runtime = open_runtime(args)
    fmt = _format(args)
    table = exporters(runtime.plugins)
    try:
        lookup(table, fmt)
    except ExportError as exc:
        raise ConfigError("--format", str(exc)) from None
    snap = asyncio.run(runtime.cycle())
    records_of = getattr(runtime, "alert_records", None)
    records = list(records_of()) if callable(records_of) else []
    view = build_view(args.view, snap, title=config.title, filter_text=args.filter, alert_records=records)
    try:
        if args.output and not Path(args.output).is_dir():
            path = export_view(view, fmt, Path(args.output), table)
        else:
            folder = Path(args.output) if args.output else config.export_dir
            assert folder is not None
            path = export_to_folder(view, fmt, folder, table)
    except ExportError as exc:
        raise ConfigError("-o", str(exc)) from None
    except OSError as exc:
        raise ConfigError(
            "-o", f"无法写入 {args.output or config.export_dir}: {exc}", expected="可写的文件路径"
        ) from None
    print(f"已导出 {len(view.rows)} 行到 {path}  (exported {args.view})")
    failed = [s for s in snap.sources if s.ok is False]
    for s in failed:
        print(f"✗ 数据源 {s.name} 载入失败，导出的数据不完整: {s.error}", file=sys.stderr)
    return 3 if failed else 0

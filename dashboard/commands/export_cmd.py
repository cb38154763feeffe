"""`dashboard export`: write the items, units or alerts view to a file, or with
`-o -` to stdout (for a pipe; a binary format such as xlsx is refused on a terminal)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from dashboard.cases import all_cases
from dashboard.commands.common import CommandError, UsageError, open_runtime
from dashboard.exporting import (
    ExportError,
    export_bytes,
    export_to_folder,
    export_view,
    exporters,
    is_binary,
    lookup,
)
from dashboard.views import VIEW_NAMES, build_view

STDOUT = "-"


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "export",
        parents=[common],
        help="导出视图 export a view (items|units|alerts|silences|trail|cases|quality|league) to csv/xlsx/md/html/json",
        description=(
            "载入全部数据源一次，把一个视图导出为文件。不给 -o 时写入配置的导出文件夹 ([export] dir)；"
            "-o - 写到标准输出（默认 csv）。"
        ),
    )
    p.add_argument("--view", choices=VIEW_NAMES, default="items", help="视图 view (默认 items)")
    p.add_argument(
        "--format",
        metavar="FORMAT",
        help="格式 csv|xlsx|md|html|json（或插件提供的其他格式；省略时按 -o 的扩展名，-o - 时为 csv）",
    )
    p.add_argument("--filter", metavar="TEXT", help="筛选 filter: 名称、牵头单位、类别或项目中包含的文字")
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="输出文件、已有文件夹，或 - 表示标准输出 file, folder or - for stdout",
    )
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="数据截止日期 as-of date")
    p.set_defaults(handler=run)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output == STDOUT:
        return "csv"
    suffix = Path(args.output).suffix.lstrip(".") if args.output else ""
    if not suffix:
        raise UsageError("--format", "请指定导出格式，或在 -o 中写出扩展名", expected="csv|xlsx|md|html|json")
    return suffix


def run(args: argparse.Namespace) -> int:
    config, runtime = open_runtime(args)
    fmt = _format(args)
    table = exporters(runtime.plugins)
    try:
        lookup(table, fmt)
    except ExportError as exc:
        raise UsageError("--format", str(exc)) from None
    to_stdout = args.output == STDOUT
    if to_stdout and sys.stdout is None:
        raise UsageError("-o -", "标准输出已关闭，无处可写 stdout is closed", expected="-o 文件名")
    if to_stdout and sys.stdout.isatty() and fmt.lower() in ("xlsx", "xls"):
        raise _binary_to_terminal(fmt)  # refused before any source is fetched
    snap = asyncio.run(runtime.cycle())
    records_of = getattr(runtime, "alert_records", None)
    records = list(records_of()) if callable(records_of) else []
    engine = getattr(runtime, "alerts", None)  # silences and the trail (留痕) live with the alerts
    digest = None
    if args.view == "digest":  # what changed since the previous bulletin in history
        from dashboard.digest_view import runtime_digest

        digest = runtime_digest(runtime)
    view = build_view(
        args.view,
        snap,
        title=config.title,
        filter_text=args.filter,
        alert_records=records,
        silences=engine.silences() if engine is not None and args.view == "silences" else (),
        trail=engine.trail() if engine is not None and args.view == "trail" else (),
        cases=all_cases(runtime.store) if args.view in ("cases", "league") else (),
        config=config,
        digest=digest,
    )
    try:
        if to_stdout:
            _write_stdout(export_bytes(view, fmt, table), fmt)
            where = "标准输出 stdout"
        elif args.output and not Path(args.output).is_dir():
            where = str(export_view(view, fmt, Path(args.output), table))
        else:
            folder = Path(args.output) if args.output else config.export_dir
            assert folder is not None
            where = str(export_to_folder(view, fmt, folder, table))
    except ExportError as exc:
        raise CommandError(f"导出失败 export failed: `-o`: {exc}") from None
    except BrokenPipeError:
        raise  # the reader of `-o -` left: main() exits 0, as for any closed pipe
    except OSError as exc:
        raise CommandError(
            f"导出失败 export failed: `-o`: 无法写入 {args.output or config.export_dir}: {exc}（应为 可写的文件路径）"
        ) from None
    # With -o - stdout holds the data: what we say goes to stderr.
    print(
        f"已导出 {len(view.rows)} 行到 {where}  (exported {args.view})",
        file=sys.stderr if to_stdout else sys.stdout,
    )
    failed = [s for s in snap.sources if s.ok is False]
    for s in failed:
        print(f"✗ 数据源 {s.name} 载入失败，导出的数据不完整: {s.error}", file=sys.stderr)
    return 3 if failed else 0


def _binary_to_terminal(fmt: str) -> UsageError:
    return UsageError(
        "-o -",
        f"{fmt} 是二进制格式，不能写到终端",
        expected=f"重定向到文件（> 清单.{fmt}）、接管道，或用 -o 文件名",
    )


def _write_stdout(data: bytes, fmt: str) -> None:
    if sys.stdout.isatty() and is_binary(data):  # a plugin's binary format
        raise _binary_to_terminal(fmt)
    sys.stdout.flush()  # anything printed before must come first
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()

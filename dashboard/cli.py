"""`dashboard` and its subcommands. The command line is a public contract: keys,
flags and exit codes are only ever added, never renamed or removed.

Exit codes: 0 ok; 2 configuration error; 3 a source failed to load.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dashboard import __version__
from dashboard.commands import COMMANDS
from dashboard.contracts import ConfigError

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_SOURCE_FAILED = 3


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="配置文件 config file (默认 ./dashboard.toml，其次用户配置目录，最后内置示例)",
    )
    parser = argparse.ArgumentParser(
        prog="dashboard",
        description="专班看板: 重点民生实事进度看板 (zhuanban dashboard)",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--kiosk", action="store_true", help="轮播模式 kiosk mode (office screen)")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="数据截止日期 as-of date")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from dashboard.commands.tui import run_tui

            return run_tui(args)
        result: int = args.handler(args)
        return result
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130

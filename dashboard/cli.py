"""`dashboard` and its subcommands. The command line is a public contract: keys,
flags and exit codes are only ever added, never renamed or removed.

Exit codes: 0 ok; 1 internal error (or no such alert for `ack`); 2 configuration or
usage error; 3 a source failed to load; 130 interrupted. Whatever goes wrong, the user
sees a message with its exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from dashboard import __version__
from dashboard.commands import MODULES, NAMES, load
from dashboard.commands.common import CommandError
from dashboard.contracts import ConfigError

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_SOURCE_FAILED = 3
EXIT_INTERRUPTED = 130

# argparse speaks English; the Chinese goes first, its own words stay beside it.
_ARGPARSE_ZH = (
    ("unrecognized arguments", "无法识别的参数"),
    ("expected one argument", "缺少取值"),
    ("invalid choice", "无效的取值"),
    ("the following arguments are required", "缺少必需的参数"),
    ("invalid int value", "不是整数"),
    ("not allowed with argument", "不能同时使用"),
    ("ambiguous option", "有歧义的选项"),
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose mistakes read `参数错误 usage error: …` (exit 2), like ours."""

    def error(self, message: str) -> NoReturn:
        zh = next((z for en, z in _ARGPARSE_ZH if en in message), "")
        self.print_usage(sys.stderr)
        self.exit(EXIT_CONFIG, f"参数错误 usage error: {self.prog}: {zh + ' ' if zh else ''}{message}\n")


class _Unsure(Exception):
    """A parser holding only some commands met a mistake: the full one must say it."""


class _PartialParser(ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _Unsure(message)


# Top-level options the quick look at the command line understands (others: the full parser).
_VALUE_OPTIONS = ("--config", "--as-of")
_FLAG_OPTIONS = ("--kiosk", "--read-only")


def _modules_needed(argv: Sequence[str]) -> list[str] | None:
    """The command modules `argv` needs ([] for the TUI), or None when only the full
    command line can tell (`--help`, `--version`, an abbreviation, an unknown word)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in _VALUE_OPTIONS:
            i += 2
        elif token in _FLAG_OPTIONS or token.partition("=")[0] in _VALUE_OPTIONS:
            i += 1
        elif token.startswith("-"):
            return None
        else:
            module = NAMES.get(token)
            return None if module is None else [module]
    return []


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """`build_parser().parse_args(argv)`, importing only the command modules `argv` uses
    (issue 17: `dashboard check` starts without export's, serve's, ... imports). Any
    doubt or mistake is parsed again by the full parser, so help and errors are its own."""
    args = list(sys.argv[1:] if argv is None else argv)
    modules = _modules_needed(args)
    if modules is not None:
        try:
            return build_parser(modules, parser_class=_PartialParser).parse_args(args)
        except _Unsure:
            pass
    return build_parser().parse_args(args)


def build_parser(
    modules: Sequence[str] | None = None, *, parser_class: type[ArgumentParser] = ArgumentParser
) -> argparse.ArgumentParser:
    """The command line with every command (`modules` None), or only those of `modules`."""
    common = ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="配置文件 config file (默认 ./dashboard.toml，其次用户配置目录，最后内置示例)",
    )
    # The top level gets its own `--config` action: argparse shares a parent's action
    # objects, and the subcommands' copy has its default suppressed (see _keep_top_level).
    parser = parser_class(
        prog="dashboard",
        description="专班看板: 重点民生实事进度看板 (zhuanban dashboard)",
    )
    parser.add_argument("--config", metavar="PATH", help=common._actions[0].help)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--kiosk", action="store_true", help="轮播模式 kiosk mode (office screen)")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="只读模式 read-only: 不能确认、静默、导出，Ctrl+Q 退出（--kiosk 时默认开启）",
    )
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="数据截止日期 as-of date")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in MODULES if modules is None else modules:
        load(module).register(sub, common)
    _keep_top_level(parser, {a.dest for a in parser._actions if a.option_strings})
    return parser


def _keep_top_level(parser: argparse.ArgumentParser, dests: set[str]) -> None:
    """`dashboard --config X check`: argparse copies a subcommand's defaults over what
    the top level parsed, so a subcommand's own `--config`/`--as-of`/`--kiosk` default
    would silently drop X. Their defaults are suppressed: given, they win; not given, the
    top level's value (or default) stays."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in set(action.choices.values()):
                for a in child._actions:
                    if a.dest in dests and a.option_strings and a.dest not in ("help", "version"):
                        a.default = argparse.SUPPRESS
                _keep_top_level(child, dests)


def _stdout_gone() -> None:
    """The reader of our stdout went away (`| head -1`): point fd 1 at /dev/null so the
    interpreter's last flush at exit cannot raise again (the Python docs' recipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout without a real fd (a test's capture)
        pass


def _lenient_stdout() -> None:
    # A file name that is not UTF-8 (surrogate-escaped by Python) is shown escaped, not a crash.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _lenient_stdout()
    try:
        args = parse_args(argv)
        if args.command is None:
            from dashboard.commands.tui import run_tui

            code = run_tui(args)
        else:
            code = int(args.handler(args))
        if sys.stdout is not None:  # None when started with stdout closed (`>&-`)
            sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except BrokenPipeError:
        # The reader took what it wanted (`dashboard alerts | head -1`): not a failure.
        _stdout_gone()
        return EXIT_OK
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except CommandError as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("已中断 interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit:
        raise  # argparse's --help, --version and usage errors carry their own code
    except Exception as exc:  # the last line of defence: a message, never a traceback
        if os.environ.get("DASHBOARD_DEBUG"):
            raise
        print(
            f"内部错误 internal error: {type(exc).__name__}: {exc}\n"
            "（这是程序的缺陷，请附上所用命令报告；设置 DASHBOARD_DEBUG=1 可看到详细信息）",
            file=sys.stderr,
        )
        return EXIT_INTERNAL

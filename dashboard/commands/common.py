"""Helpers shared by subcommands: opening the runtime, the errors a command reports
(each a message and an exit code, never a traceback), and text tables aligned by
display width (a CJK character takes two terminal cells)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from datetime import date, timedelta

from rich.cells import cell_len

from dashboard.config import Config, load_config, parse_as_of
from dashboard.contracts import ConfigError
from dashboard.runtime import Runtime

EXIT_USAGE = 2  # the same code as a configuration error: the contract has only 0, 2, 3 (and 1 for ack)


class CommandError(Exception):
    """A command that cannot do what was asked: `main` prints the message, exits with `code`."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        self.code = code
        super().__init__(message)


class UsageError(CommandError):
    """A mistake on the command line (a bad date, an unknown format): exit 2."""

    def __init__(self, key: str, message: str, *, expected: str = "") -> None:
        hint = f"（应为 {expected}）" if expected else ""
        super().__init__(f"参数错误 usage error: `{key}`: {message}{hint}", EXIT_USAGE)


def date_arg(value: str | None, key: str) -> date | None:
    """A YYYY-MM-DD option; a bad one is a usage error, not a configuration error."""
    if value is None:
        return None
    try:
        return parse_as_of(value, key=key)
    except ConfigError as exc:
        raise UsageError(key, exc.message, expected="YYYY-MM-DD") from None


def as_of_arg(args: argparse.Namespace) -> date | None:
    return date_arg(getattr(args, "as_of", None), "--as-of")


_DURATION_RE = re.compile(r"\s*(\d+)\s*([dw天周]?)\s*", re.IGNORECASE)


def duration_days(text: str, key: str) -> int:
    """`7d`, `2w`, `7` (days), `7天`, `2周` → days. Silences are kept by the day, so
    hours are refused rather than rounded."""
    m = _DURATION_RE.fullmatch(text)
    if not m or int(m.group(1)) < 1:
        raise UsageError(key, f"无法识别的时长 {text!r}", expected="天数，如 7d、2w（至少 1 天）")
    n, unit = int(m.group(1)), m.group(2).lower()
    days = n * 7 if unit in ("w", "周") else n
    if days > 3660:
        raise UsageError(key, f"时长 {text!r} 超过十年", expected="不超过 3660 天")
    return days


def until_from_duration(text: str, today: date, key: str = "--for") -> date:
    """`--for 7d` silences through today + 7 days, as `m` in the TUI does."""
    return today + timedelta(days=duration_days(text, key))


def open_runtime(args: argparse.Namespace) -> tuple[Config, Runtime]:
    as_of = as_of_arg(args)  # a bad flag is reported before the config is read
    config = load_config(getattr(args, "config", None))
    return config, Runtime(config, as_of=as_of)


def pad(text: str, width: int, align: str = "<") -> str:
    """`text` padded with spaces to `width` terminal cells (str.ljust counts characters)."""
    gap = max(0, width - cell_len(text))
    return " " * gap + text if align == ">" else text + " " * gap


def table_lines(
    rows: Sequence[Sequence[str]], aligns: str = "", indent: str = "", sep: str = "  "
) -> list[str]:
    """Rows as lines whose columns start at the same terminal cell. `aligns` has one
    `<` or `>` per column (default `<`); the last column is not padded when left-aligned,
    so a long message does not drag trailing spaces."""
    if not rows:
        return []
    n = max(len(r) for r in rows)
    widths = [max((cell_len(r[i]) for r in rows if i < len(r)), default=0) for i in range(n)]
    lines = []
    for row in rows:
        cells = []
        for i, text in enumerate(row):
            align = aligns[i] if i < len(aligns) else "<"
            last = i == len(row) - 1
            cells.append(text if last and align == "<" else pad(text, widths[i], align))
        lines.append((indent + sep.join(cells)).rstrip())
    return lines

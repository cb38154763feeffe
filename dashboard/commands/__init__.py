"""Subcommands of `dashboard`: each module has `register(subparsers, common)` which
adds its parser and sets `handler` to a function `(args) -> exit code`."""

from __future__ import annotations

from dashboard.commands import check, plugins_cmd

COMMANDS = [check, plugins_cmd]

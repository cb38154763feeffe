"""Subcommands of `dashboard`: each module has `register(subparsers, common)` which
adds its parser and sets `handler` to a function `(args) -> exit code`."""

from __future__ import annotations

from dashboard.commands import (
    alerts_cmd,
    cases_cmd,
    check,
    digest_cmd,
    export_cmd,
    plugins_cmd,
    quality_cmd,
    report_cmd,
    routes_cmd,
    serve_cmd,
    store_cmd,
)

COMMANDS = [
    check,
    plugins_cmd,
    export_cmd,
    report_cmd,
    alerts_cmd,
    cases_cmd,
    routes_cmd,
    store_cmd,
    quality_cmd,
    serve_cmd,  # issue 16: the app in a browser
    digest_cmd,  # issue 15: what changed since the previous bulletin
]

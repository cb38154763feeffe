"""`dashboard`: start the TUI."""

from __future__ import annotations

import argparse

from dashboard.commands.common import open_runtime


def run_tui(args: argparse.Namespace) -> int:
    from dashboard.ui.app import make_app

    config, runtime = open_runtime(args)
    if args.kiosk:
        config.ui.kiosk = True  # read-only too, unless `[ui] read_only = false` says otherwise
    if getattr(args, "read_only", False):
        config.ui.read_only = True
    make_app(config, runtime).run()
    return 0

"""`dashboard`: start the TUI."""

from __future__ import annotations

import argparse

from dashboard.commands.common import open_runtime


def run_tui(args: argparse.Namespace) -> int:
    from dashboard.ui.app import make_app

    config, runtime = open_runtime(args)
    if args.kiosk:
        config.ui.kiosk = True
    make_app(config, runtime).run()
    return 0

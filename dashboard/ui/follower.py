"""One browser session of `dashboard serve`: the same app on a FollowerRuntime, which
reads the shared store instead of fetching. textual-serve starts one process per tab:
`python -m dashboard.ui.follower --config PATH [--kiosk] [--allow-actions] [--as-of D]`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from dashboard.config import Config, load_config
from dashboard.contracts import ConfigError
from dashboard.follower import FollowerRuntime
from dashboard.scheduler import Scheduler
from dashboard.ui.app import DashboardApp

# How often a session asks SQLite whether the refresher wrote (a PRAGMA: microseconds).
STORE_POLL_SECONDS = 1.0


class FollowerApp(DashboardApp):
    """The dashboard on the store the server's refresher keeps current; `r` re-reads it."""

    def __init__(
        self, config: Config, runtime: FollowerRuntime, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(config, runtime, clock=clock)
        self.follower_runtime = runtime
        # No file watcher: a changed CSV is the refresher's to read; the store tells us after.
        self.scheduler = Scheduler(runtime, on_refresh=self._source_refreshed, watch=False)

    def on_mount(self) -> None:
        # DashboardApp's own on_mount runs too (Textual calls each class's handler).
        self.set_interval(STORE_POLL_SECONDS, self._follow_store)

    def _follow_store(self) -> None:
        if self.follower_runtime.store_changed():
            self.reload()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.ui.follower")
    parser.add_argument("--config", required=True)
    parser.add_argument("--kiosk", action="store_true")
    parser.add_argument("--allow-actions", action="store_true")
    parser.add_argument("--as-of")
    args = parser.parse_args(argv)
    try:
        from dashboard.commands.common import as_of_arg

        config = load_config(args.config)
        config.ui.kiosk = config.ui.kiosk or args.kiosk
        config.ui.read_only = not args.allow_actions
        runtime = FollowerRuntime(config, as_of=as_of_arg(args))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    FollowerApp(config, runtime).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

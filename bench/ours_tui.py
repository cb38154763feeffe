"""Our app as a `bench.tui.TuiTarget`: timed by `bench.child_tui` exactly like the stock DataTable.

The parent (`bench.ours`) prepares, outside the timed child, a folder holding a config file whose
CSV source is a symbolic link to the generated UTF-8 bulletin, a fresh store and a JSON Lines
alert sink, and passes it in `TargetFiles.options`:

- `config`: the config file; `link`: the source's path (the symbolic link);
- `probe`: the start of the name of the item our default order puts first (worst first), so
  first paint is the first frame showing the table's first row.

Inside the child the factory only loads that config and calls `dashboard.ui.app.make_app`, the
factory the CLI uses: reading and evaluating the bulletin happen in the app, and count.

The refresh, as the issue defines it ("1% of the rows change on disk → screen updated"): the link
is atomically replaced by one to the refreshed copy (1% of the ratios changed, as another program
rewriting the file would), and nothing else: the app's file watcher sees the change, waits until
the file has been quiet for its debounce (0.5 s, a deliberate wait that the wall time includes),
and refreshes the source. The UI-thread time is the time spent in `DashboardApp.show` (every
screen updating in place) between the swap and the settled frame that shows every change;
reading, parsing, evaluating, recording and the alert rules run in worker threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

from bench.childlib import clock, swap_link
from bench.generate import Change
from bench.tui import TargetFiles
from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app

ITEMS_TABLE = "#items"


def ratio_matches(ratio: float | None, cell: str) -> bool:
    """Whether an item's ratio (a fraction) is the bulletin's `76.3%`."""
    try:
        points = float(cell.strip().rstrip("%"))
    except ValueError:
        return False
    return ratio is not None and abs(ratio * 100 - points) < 0.051


class OurTarget:
    def __init__(self, files: TargetFiles) -> None:
        self.files = files
        self.link = Path(files.options["link"])
        self._app: DashboardApp = make_app(load_config(files.options["config"]))
        self._show_times: list[tuple[float, float]] = []  # (end, seconds) of each `show`
        self._refresh_started: float | None = None
        self._indexed_rows: Any = None
        self._index: dict[str, Any] = {}
        self._instrument()

    def _instrument(self) -> None:
        # Time the one way new data reaches the UI (bench-only wrapper on this instance).
        app, original = self._app, self._app.show
        times = self._show_times

        def timed_show(snap: Any) -> None:
            t = clock()
            original(snap)
            end = clock()
            times.append((end, end - t))

        app.show = timed_show  # type: ignore[method-assign]

    @property
    def app(self) -> App[Any]:
        return self._app

    def first_paint_text(self) -> str:
        return str(self.files.options["probe"])

    def table_rows(self) -> list[Any]:
        return self._app.screen.query_one(ITEMS_TABLE).rows  # type: ignore[attr-defined,no-any-return]

    def apply_refresh(self, changes: list[Change]) -> float | None:
        assert self.files.mutated_csv is not None
        self._refresh_started = clock()
        swap_link(self.link, self.files.mutated_csv)  # the watcher takes it from here
        return None  # the UI-thread work comes later: see refresh_ui_time

    def refresh_done(self, changes: list[Change]) -> bool:
        rows = self.table_rows()
        if rows is not self._indexed_rows:  # index the table's rows once per new data, not per frame
            wanted = {c.id for c in changes}
            self._index = {e.item.id: e for e in rows if e.item.id in wanted}
            self._indexed_rows = rows
        by_id = self._index
        return all(c.id in by_id and ratio_matches(by_id[c.id].item.ratio, c.value) for c in changes)

    def refresh_ui_time(self) -> float:
        start = self._refresh_started or 0.0
        return sum(seconds for end, seconds in self._show_times if end >= start)


def make_target(files: TargetFiles) -> OurTarget:
    return OurTarget(files)

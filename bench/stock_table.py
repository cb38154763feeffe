"""The reference TUI: a minimal Textual app showing the bulletin in a stock `DataTable`.

As a developer would write it first: read the CSV with the csv module, `add_columns` the header and
`add_rows` every row, and for a refresh `update_cell` each changed cell. No virtualisation, no
caching, default widget settings.
"""

from __future__ import annotations

import csv
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from bench.generate import Change
from bench.tui import TargetFiles


class StockTableApp(App[None]):
    def __init__(self, header: list[str], rows: list[list[str]]) -> None:
        super().__init__()
        self._header = header
        self._rows = rows
        self.row_keys: dict[str, RowKey] = {}
        self.column_keys: dict[str, ColumnKey] = {}

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self.column_keys = dict(zip(self._header, table.add_columns(*self._header), strict=True))
        keys = table.add_rows(self._rows)
        self.row_keys = {row[0]: key for row, key in zip(self._rows, keys, strict=True)}


class StockTableTarget:
    def __init__(self, files: TargetFiles) -> None:
        with open(files.data["csv_utf8"], encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        self._first_name = rows[1][2]
        self._app = StockTableApp(rows[0], rows[1:])

    @property
    def app(self) -> App[Any]:
        return self._app

    def first_paint_text(self) -> str:
        return self._first_name

    def apply_refresh(self, changes: list[Change]) -> float | None:
        table = self._app.query_one(DataTable)
        for change in changes:
            table.update_cell(
                self._app.row_keys[change.id], self._app.column_keys[change.column], change.value
            )
        return None

    def refresh_done(self, changes: list[Change]) -> bool:
        table = self._app.query_one(DataTable)
        return all(
            table.get_cell(self._app.row_keys[c.id], self._app.column_keys[c.column]) == c.value
            for c in changes
        )


def make_target(files: TargetFiles) -> StockTableTarget:
    return StockTableTarget(files)

"""CSV exporter: UTF-8 with BOM so Excel opens Chinese text correctly; text cells a
spreadsheet would run as formulas (`=`, `+`, `-`, `@`) are neutralised with `'`.

The template for an exporter plugin: return `Exporter` descriptors from
`dashboard_exporters`; `write(view, path)` writes one `TableView`.
"""

from __future__ import annotations

import csv
from pathlib import Path

from dashboard import hookimpl
from dashboard.exporting import Exporter, cell_text, neutralise
from dashboard.views import Cell, Column, TableView


def csv_cell(value: Cell, column: Column) -> str:
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, float) and column.kind != "percent" and not value.is_integer():
        return repr(value)  # full precision for machines; percents stay `32.0%` for Excel
    return cell_text(value, column)


def write(view: TableView, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow([neutralise(c.name) for c in view.columns])
        for row in view.rows:
            writer.writerow([csv_cell(v, c) for v, c in zip(row, view.columns, strict=True)])


@hookimpl
def dashboard_exporters() -> list[Exporter]:
    return [Exporter("csv", "csv", write, "CSV（UTF-8 BOM，Excel 可直接打开）")]

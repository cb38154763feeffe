"""JSON exporter: one object with the view's title, notes, columns and rows
(`{column key: value}`); percents as fractions (0.32), dates as ISO text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from dashboard import hookimpl
from dashboard.exporting import Exporter
from dashboard.views import Cell, TableView


def _value(value: Cell) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def view_to_json(view: TableView) -> dict[str, Any]:
    return {
        "view": view.name,
        "title": view.title,
        "notes": view.notes,
        "columns": [{"key": c.field, "name": c.name, "kind": c.kind} for c in view.columns],
        "rows": [
            {c.field: _value(v) for c, v in zip(view.columns, row, strict=True)}
            | ({"_status": s.value} if (s := view.status_of(i)) is not None else {})
            for i, row in enumerate(view.rows)
        ],
    }


def write(view: TableView, path: Path) -> None:
    path.write_text(json.dumps(view_to_json(view), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_many(views: Sequence[TableView], path: Path) -> None:
    data = {"views": [view_to_json(v) for v in views]}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@hookimpl
def dashboard_exporters() -> list[Exporter]:
    return [Exporter("json", "json", write, "JSON（列、行与状态）", write_many)]

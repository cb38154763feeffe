"""JSON exporter: one object with the view's title, notes, columns and rows
(`{column key: value}`); percents as fractions (0.32), dates as ISO text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from dashboard import hookimpl, strict_json
from dashboard.core.sanitize import clean_text
from dashboard.exporting import Exporter
from dashboard.views import Cell, TableView


def _value(value: Cell) -> Any:
    """Dates as ISO text, a non-finite float as null (RFC 8259 has no NaN), text with
    control characters stripped (the view should hold none already)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return value if value - value == 0 else None
    if isinstance(value, str):
        return clean_text(value)
    return value


def _dumps(data: Any) -> str:
    return strict_json.dumps(data, indent=2) + "\n"


def view_to_json(view: TableView) -> dict[str, Any]:
    return {
        "view": view.name,
        "title": clean_text(view.title),
        "notes": [clean_text(n) for n in view.notes],
        "columns": [{"key": c.field, "name": clean_text(c.name), "kind": c.kind} for c in view.columns],
        "rows": [
            {c.field: _value(v) for c, v in zip(view.columns, row, strict=True)}
            | ({"_status": s.value} if (s := view.status_of(i)) is not None else {})
            for i, row in enumerate(view.rows)
        ],
    }


def write(view: TableView, path: Path) -> None:
    path.write_text(_dumps(view_to_json(view)), encoding="utf-8")


def write_many(views: Sequence[TableView], path: Path) -> None:
    data = {"views": [view_to_json(v) for v in views]}
    path.write_text(_dumps(data), encoding="utf-8")


@hookimpl
def dashboard_exporters() -> list[Exporter]:
    return [Exporter("json", "json", write, "JSON（列、行与状态）", write_many)]

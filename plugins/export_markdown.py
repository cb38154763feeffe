"""Markdown exporter: a heading, the notes, and a pipe table (numbers right-aligned).
Several views (the bulletin annexes) become one document, a section per view."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dashboard import hookimpl
from dashboard.exporting import Exporter, cell_text
from dashboard.views import TableView

_NUMERIC = ("int", "number", "percent")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


def render(view: TableView, level: int = 1) -> str:
    lines = [f"{'#' * level} {_escape(view.title)}", ""]
    if view.notes:
        lines += [*(_escape(n) for n in view.notes), ""]
    if not view.rows:
        return "\n".join([*lines, "（无 none）", ""])
    lines.append("| " + " | ".join(_escape(c.name) for c in view.columns) + " |")
    lines.append("| " + " | ".join("---:" if c.kind in _NUMERIC else "---" for c in view.columns) + " |")
    for row in view.rows:
        cells = (_escape(cell_text(v, c)) for v, c in zip(row, view.columns, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def write(view: TableView, path: Path) -> None:
    path.write_text(render(view), encoding="utf-8")


def write_many(views: Sequence[TableView], path: Path) -> None:
    """The first view's title heads the document; the others are its sections."""
    path.write_text("\n".join(render(v, 1 if i == 0 else 2) for i, v in enumerate(views)), encoding="utf-8")


@hookimpl
def dashboard_exporters() -> list[Exporter]:
    return [Exporter("md", "md", write, "Markdown 表格", write_many)]

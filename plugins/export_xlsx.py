"""XLSX exporter (openpyxl): a title row, a styled and frozen header with a filter,
typed cells (numbers as numbers, percents as fractions formatted `0.0%`, dates as
dates), column widths that fit Chinese text, and rows coloured by status.

Text cells are always written as text, never as formulas: a name such as
`=HYPERLINK(...)` stays a string (and is marked with Excel's quote prefix).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dashboard import hookimpl
from dashboard.core.items import Status
from dashboard.exporting import STATUS_COLOURS, Exporter, cell_text, display_width
from dashboard.views import Cell, Column, TableView

HEADER_FILL = "1F4E78"
HEADER_FONT = "FFFFFF"
MAX_WIDTH = 60  # wider text wraps instead
MAX_CELL_CHARS = 32767  # Excel's limit for one cell
_SHEET_BAD_RE = re.compile(r"[\[\]:*?/\\]")
# Characters XML 1.0 cannot hold; openpyxl refuses them.
_ILLEGAL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def sheet_title(view: TableView, taken: set[str]) -> str:
    base = _SHEET_BAD_RE.sub(" ", view.sheet or view.title).strip()[:31] or "Sheet"
    title, n = base, 2
    while title in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


def _typed(value: Cell, column: Column) -> tuple[Cell, str]:
    """The value as the sheet stores it, and its number format."""
    if isinstance(value, str):
        return _ILLEGAL_RE.sub("", value)[:MAX_CELL_CHARS], "General"
    if isinstance(value, bool):
        return cell_text(value, column), "General"
    if isinstance(value, (int, float)):
        if column.kind == "percent":
            return value, "0.0%"
        return value, "0.0##" if isinstance(value, float) and not value.is_integer() else "General"
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), "yyyy-mm-dd hh:mm"
    if isinstance(value, date):
        return value, "yyyy-mm-dd"
    return None, "General"


def _cell(ws: Any, value: Cell, column: Column) -> Any:
    from openpyxl.cell import WriteOnlyCell

    stored, number_format = _typed(value, column)
    cell = WriteOnlyCell(ws, value=stored)
    if isinstance(stored, str):
        cell.data_type = "s"  # openpyxl would otherwise take a leading `=` for a formula
    if number_format != "General":
        cell.number_format = number_format
    return cell


class _Styles:
    """One named style per (status, number format, wrap), made once per workbook:
    giving a cell a named style is cheap, while setting font, fill and border objects
    cell by cell re-hashes them every time (seconds on a 20,000-row export)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.names: dict[tuple[Status | None, str, bool], str] = {}

    def __call__(self, status: Status | None, number_format: str, wrap: bool) -> str:
        key = (status, number_format, wrap)
        name = self.names.get(key)
        if name is None:
            from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

            name = self.names[key] = f"zhuanban-{len(self.names) + 1}"
            style = NamedStyle(name=name, number_format=number_format)
            thin = Side(style="thin", color="BFBFBF")
            style.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            if status is not None:
                background, foreground = STATUS_COLOURS[status]
                style.fill = PatternFill("solid", fgColor=background)
                style.font = Font(color=foreground)
            if wrap:
                style.alignment = Alignment(wrap_text=True, vertical="top")
            self.wb.add_named_style(style)
        return name


def fill_sheet(ws: Any, view: TableView, styles: _Styles | None = None) -> None:
    """Write `view` onto an empty write-only worksheet: title, notes, header, rows.

    Write-only mode keeps a 100,000-row export fast and small in memory; it needs the
    column widths, panes and merges set before the first row goes in.
    """
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.cell_range import CellRange

    styles = styles or _Styles(ws.parent)
    width = max(1, len(view.columns))
    header_row = 2 + len(view.notes)
    texts = [[cell_text(v, c) for v, c in zip(row, view.columns, strict=True)] for row in view.rows]
    widths = [display_width(c.name) for c in view.columns]
    for row_texts in texts:
        for i, text in enumerate(row_texts):
            widths[i] = max(widths[i], display_width(text))
    for col, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(MAX_WIDTH, w + 2)
    ws.freeze_panes = f"A{header_row + 1}"
    if width > 1:
        ws.merged_cells.add(CellRange(min_col=1, min_row=1, max_col=width, max_row=1))
    if view.rows:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(width)}{header_row + len(view.rows)}"

    title = _cell(ws, view.title, Column(""))
    title.font = Font(bold=True, size=14)
    ws.append([title])
    for note in view.notes:
        cell = _cell(ws, note, Column(""))
        cell.font = Font(italic=True, color="595959")
        ws.append([cell])

    thin = Side(style="thin", color="BFBFBF")
    header = []
    for column in view.columns:
        cell = _cell(ws, column.name, column)
        cell.font = Font(bold=True, color=HEADER_FONT)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        header.append(cell)
    ws.append(header)

    for index, values in enumerate(view.rows):
        status = view.status_of(index)
        cells = []
        for value, column, text in zip(values, view.columns, texts[index], strict=True):
            cell = _cell(ws, value, column)
            cell.style = styles(status, cell.number_format, display_width(text) > MAX_WIDTH)
            if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
                cell.quotePrefix = True  # and Excel shows it as typed, never as a formula
            cells.append(cell)
        ws.append(cells)


def write_many(views: Sequence[TableView], path: Path) -> None:
    """A workbook with one sheet per view, in order."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    styles = _Styles(wb)
    taken: set[str] = set()
    for view in views:
        fill_sheet(wb.create_sheet(sheet_title(view, taken)), view, styles)
    wb.save(path)


def write(view: TableView, path: Path) -> None:
    write_many([view], path)


@hookimpl
def dashboard_exporters() -> list[Exporter]:
    return [Exporter("xlsx", "xlsx", write, "Excel 工作簿（数值、百分比、冻结表头、状态着色）", write_many)]

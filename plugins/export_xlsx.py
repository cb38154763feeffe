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


def _cell(ws: Any, value: Cell, column: Column) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws)
    if value is None:
        return cell
    if isinstance(value, str):
        cell.value = _ILLEGAL_RE.sub("", value)[:MAX_CELL_CHARS]
        cell.data_type = "s"  # openpyxl would otherwise take a leading `=` for a formula
        if value.startswith(("=", "+", "-", "@")):
            cell.quotePrefix = True
    elif isinstance(value, bool):
        cell.value = cell_text(value, column)
    elif isinstance(value, (int, float)):
        cell.value = value
        if column.kind == "percent":
            cell.number_format = "0.0%"
        elif isinstance(value, float) and not value.is_integer():
            cell.number_format = "0.0##"
    elif isinstance(value, datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    return cell


def fill_sheet(ws: Any, view: TableView) -> None:
    """Write `view` onto an empty write-only worksheet: title, notes, header, rows.

    Write-only mode keeps a 100,000-row export fast and small in memory; it needs the
    column widths, panes and merges set before the first row goes in.
    """
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.cell_range import CellRange

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
    note_font = Font(italic=True, color="595959")
    for note in view.notes:
        cell = _cell(ws, note, Column(""))
        cell.font = note_font
        ws.append([cell])

    thin = Side(style="thin", color="BFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_font = Font(bold=True, color=HEADER_FONT)
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    centred = Alignment(horizontal="center", vertical="center", wrap_text=True)
    header = []
    for column in view.columns:
        cell = _cell(ws, column.name, column)
        cell.font, cell.fill, cell.alignment, cell.border = header_font, header_fill, centred, border
        header.append(cell)
    ws.append(header)

    fills = {s: PatternFill("solid", fgColor=bg) for s, (bg, _fg) in STATUS_COLOURS.items()}
    fonts = {s: Font(color=fg) for s, (_bg, fg) in STATUS_COLOURS.items()}
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, values in enumerate(view.rows):
        status = view.status_of(index)
        cells = []
        for value, column, text in zip(values, view.columns, texts[index], strict=True):
            cell = _cell(ws, value, column)
            cell.border = border
            if len(text) * 2 > MAX_WIDTH and display_width(text) > MAX_WIDTH:
                cell.alignment = wrap
            if status is not None:
                cell.fill = fills[status]
                cell.font = fonts[status]
            cells.append(cell)
        ws.append(cells)


def write_many(views: Sequence[TableView], path: Path) -> None:
    """A workbook with one sheet per view, in order."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    taken: set[str] = set()
    for view in views:
        fill_sheet(wb.create_sheet(sheet_title(view, taken)), view)
    wb.save(path)


def write(view: TableView, path: Path) -> None:
    write_many([view], path)


@hookimpl
def dashboard_exporters() -> list[Exporter]:
    return [Exporter("xlsx", "xlsx", write, "Excel 工作簿（数值、百分比、冻结表头、状态着色）", write_many)]

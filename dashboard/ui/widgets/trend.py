"""The item's trend (issue 15): its ratio month by month as bars against the 序时进度
line, drawn in terminal cells by us. Not textual-plotext: plotext lays out its canvas by
characters, not cells, so the Chinese month labels and legend push its lines 3–4 cells
past the widget (a 40-cell plot came out 43–44 cells wide); these rows are measured with
`rich.cells.cell_len` and always fit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.cells import cell_len
from rich.text import Text
from textual.events import Resize
from textual.widgets import Static

EIGHTHS = " ▁▂▃▄▅▆▇█"
EXPECTED_MARK = "━"
AXIS = 6  # "100% ┤" is six cells
MIN_SLOT = 6  # "100%" and a gap
MAX_SLOT = 12
STYLE_EXPECTED = "bold magenta"
STYLE_AHEAD = "green"
STYLE_BEHIND = "yellow"
NOTE_FEW = (
    "（历史中只有 {n} 期记录，还画不出走势；导入往期通报 `dashboard import` 后可见 too few months to plot）"
)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One month: the data's as-of date, the ratio then (None: no figure) and the expected progress."""

    day: date
    ratio: float | None
    expected: float


def monthly(points: list[TrendPoint]) -> list[TrendPoint]:
    """The last point of each month, oldest first (weekly bulletins become one bar a month)."""
    last: dict[tuple[int, int], TrendPoint] = {}
    for p in sorted(points, key=lambda p: p.day):
        last[(p.day.year, p.day.month)] = p
    return list(last.values())


def month_label(day: date, years: int) -> str:
    return f"{day.month}月" if years == 1 else f"{day:%y}-{day.month:02d}"


def _center(text: str, width: int) -> str:
    gap = max(0, width - cell_len(text))
    return " " * (gap // 2) + text + " " * (gap - gap // 2)


def trend_chart(points: list[TrendPoint], width: int, height: int = 10) -> Text:
    """Bars of the ratio per month with the expected line across each month's slot, the
    months below, then rows of the figures. At most as many months as fit `width`
    (the newest kept); with fewer than two months, a note instead of an empty plot."""
    months = monthly(points)
    if len(months) < 2:
        return Text(NOTE_FEW.format(n=len(months)), "dim")
    fit = max(1, (width - AXIS) // MIN_SLOT)
    months = months[-fit:]
    slot = max(MIN_SLOT, min(MAX_SLOT, (width - AXIS) // len(months)))
    bar = max(2, slot - 4)
    top = max([1.0, *(p.ratio for p in months if p.ratio is not None)])
    top = -(-top * 4 // 1) / 4  # up to the next 25%
    rows = max(4, height)
    text = Text()
    for r in range(rows):
        high = top * (rows - r) / rows  # this row covers (low, high]
        low = top * (rows - r - 1) / rows
        label = f"{high * 100:.0f}%" if r in (0, rows // 2) else ""
        text.append(f"{label:>4} ┤" if label else "     │", "dim")
        for p in months:
            on_line = low < p.expected <= high or (r == rows - 1 and p.expected <= low)
            behind = p.ratio is not None and p.ratio < p.expected
            bar_style = STYLE_BEHIND if behind else STYLE_AHEAD
            cells = _bar_cell(p.ratio, low, high)
            for i in range(slot - 1):
                in_bar = 1 <= i <= bar
                if on_line:
                    style = f"{STYLE_EXPECTED} on {bar_style}" if in_bar and cells == "█" else STYLE_EXPECTED
                    text.append(EXPECTED_MARK, style)
                elif in_bar:
                    text.append(cells, bar_style)
                else:
                    text.append(" ")
            text.append(" ")
        text.append("\n")
    text.append("  0% └" + "─" * (slot * len(months) - 1) + "\n", "dim")
    years = len({p.day.year for p in months})
    text.append(" " * AXIS + "".join(_center(month_label(p.day, years), slot) for p in months) + "\n")
    text.append("完成 " + " ", "bold")
    text.append("".join(_center(_pct(p.ratio), slot) for p in months) + "\n")
    text.append("序时 " + " ", STYLE_EXPECTED)
    text.append("".join(_center(_pct(p.expected), slot) for p in months) + "\n")
    text.append("█ 完成比例 ratio", STYLE_AHEAD)
    text.append("（低于序时为黄色 behind in yellow）  ", STYLE_BEHIND)
    text.append(f"{EXPECTED_MARK * 2} 序时进度 expected", STYLE_EXPECTED)
    return text


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _bar_cell(ratio: float | None, low: float, high: float) -> str:
    """The bar's character in the row covering (low, high]: full, an eighth block, or blank."""
    if ratio is None or ratio <= low:
        return " "
    if ratio >= high:
        return "█"
    return EIGHTHS[max(1, round((ratio - low) / (high - low) * 8))]


class TrendPlot(Static):
    """The plot, redrawn for its own width when it is resized or given new points."""

    DEFAULT_CSS = """
    TrendPlot { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.points: list[TrendPoint] = []

    def show(self, points: list[TrendPoint]) -> None:
        self.points = points
        self._draw(self.size.width or self.app.size.width - 4)

    def on_resize(self, event: Resize) -> None:
        self._draw(event.size.width)

    def _draw(self, width: int) -> None:
        # Fewer rows on a small terminal: the plot stays within one 80×24 screen.
        height = 6 if self.app.size.height < 30 else 10
        self.update(trend_chart(self.points, max(width, AXIS + MIN_SLOT * 2), height))

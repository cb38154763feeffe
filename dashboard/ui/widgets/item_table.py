"""The item table (`#items`): one row per indicator, coloured by status, with a
progress bar against the expected-progress (序时进度) marker."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from operator import attrgetter
from typing import ClassVar, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from dashboard.core.items import Evaluated, Status
from dashboard.core.parse import format_percent
from dashboard.ui.widgets.table import Column, VirtualTable

T = TypeVar("T")

COLUMNS = ("实事类别", "项目名称", "牵头单位", "任务数", "进度情况", "完成比例", "状态")

# Plain rich styles of each status, for cells handed to tests and exports;
# on screen the colours come from the theme (see dashboard.tcss, `status--*`).
STATUS_STYLE = {
    Status.DONE: "green",
    Status.ON_TRACK: "",
    Status.LAGGING: "yellow",
    Status.SEVERE: "bold red",
    Status.UNKNOWN: "grey50",
}
BAR_WIDTH = 10
RATIO_WIDTH = BAR_WIDTH + 1 + 7


def ratio_bar(ratio: float | None, expected: float | None = None, width: int = BAR_WIDTH) -> str:
    """`████┃░░░░░`: the ratio filled, `┃` where the expected progress stands."""
    if ratio is None:
        return "·" * width
    filled = max(0, min(width, round(min(ratio, 1.0) * width)))
    cells = ["█"] * filled + ["░"] * (width - filled)
    if expected is not None and 0 < expected < 1:
        mark = min(width - 1, int(expected * width))
        cells[mark] = "┃"
    return "".join(cells)


def ratio_cell(e: Evaluated) -> str:
    return f"{ratio_bar(e.item.ratio, e.expected)} {format_percent(e.item.ratio):>6}"


def status_class(e: Evaluated) -> str:
    return f"status--{e.status.value}"


def _paint_ratio(e: Evaluated, width: int, style: Style) -> list[Segment]:
    bar = ratio_bar(e.item.ratio, e.expected)
    text = f"{bar} {format_percent(e.item.ratio):>6}"
    if "┃" not in bar:
        return [Segment(text.ljust(width), style)]
    cut = bar.index("┃")
    mark = style + Style(bold=True, dim=False)
    return [
        Segment(text[:cut], style),
        Segment("┃", mark),
        Segment(text[cut + 1 :].ljust(width - cut - 1), style),
    ]


def _ratio_key(e: Evaluated) -> float:
    return e.item.ratio if e.item.ratio is not None else -1.0  # unknown sorts below 0%


def _target_key(e: Evaluated) -> tuple[float, str]:
    return (e.item.target if e.item.target is not None else float("inf"), e.item.target_text)


ITEM_COLUMNS: list[Column[Evaluated]] = [
    Column(
        "实事类别",
        lambda e: e.item.category,
        sort_key=attrgetter("item.category"),
        min_width=6,
        max_width=10,
        priority=3,
    ),
    Column(
        "项目名称",
        lambda e: e.item.name,
        sort_key=attrgetter("item.name"),
        min_width=16,
        max_width=60,
        flex=True,
    ),
    Column(
        "牵头单位",
        lambda e: e.item.unit,
        sort_key=attrgetter("item.unit"),
        min_width=8,
        max_width=18,
        priority=1,
    ),
    Column(
        "任务数", lambda e: e.item.target_text, sort_key=_target_key, min_width=6, max_width=16, priority=4
    ),
    Column(
        "进度情况",
        lambda e: e.item.progress_text,
        sort_key=attrgetter("item.progress_text"),
        min_width=8,
        max_width=20,
        priority=5,
    ),
    Column(
        "完成比例",
        ratio_cell,
        sort_key=_ratio_key,
        min_width=RATIO_WIDTH,
        max_width=RATIO_WIDTH,
        paint=_paint_ratio,
    ),
    Column(
        "状态",
        lambda e: e.status.label,
        sort_key=lambda e: e.status.rank,
        min_width=8,
        max_width=8,
        priority=2,
    ),
]


def row_cells(e: Evaluated) -> list[Text]:
    """The cells of one item in column order, styled by status."""
    style = STATUS_STYLE[e.status]
    return [Text(c.text(e), style) for c in ITEM_COLUMNS]


def item_haystack(e: Evaluated) -> str:
    """What `/` searches: name, lead unit, category, project and county."""
    i = e.item
    text = f"{i.name}\n{i.unit}\n{i.category}\n{i.project_code}\n{i.project_name}"
    return f"{text}\n{i.county}" if i.county else text  # a city's roll-up: `/` finds a county


COUNTY_COLUMN: Column[Evaluated] = Column(
    "县市区",
    lambda e: e.item.county,
    sort_key=attrgetter("item.county"),
    min_width=6,
    max_width=10,
    priority=1,
)


class StatusTable(VirtualTable[T]):
    """A virtual table whose rows are coloured by a status (`status--done`, ...)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {
        f"status--{s.value}" for s in Status
    }


class ItemTable(StatusTable[Evaluated]):
    """`#items`: `row_count`, `get_row_at(i)` and `get_row(item_id)` give the cells in column order."""

    def __init__(self, *, id: str | None = "items", classes: str | None = None) -> None:
        super().__init__(
            ITEM_COLUMNS,
            key_of=lambda e: e.item.id,
            row_class=status_class,
            haystack=item_haystack,
            empty_text="（没有符合条件的项目 no matching items）",
            id=id,
            classes=classes,
        )

    def set_rows(self, rows: Iterable[Evaluated]) -> None:
        rows = rows if isinstance(rows, list) else list(rows)
        if self.columns[0].label != COUNTY_COLUMN.label and any(e.item.county for e in rows):
            # A city's roll-up: a 县市区 column first, from the first rows that name a county
            # (without one the table is as it always was).
            self.columns.insert(0, replace(COUNTY_COLUMN))
            if self.sort_column is not None:
                self.sort_column += 1
            self._strips.clear()
            self._measured = False
            self._layout_width = -1
        super().set_rows(rows)

    def cells(self, row: Evaluated) -> list[Text]:
        if self.columns[0].label == COUNTY_COLUMN.label:
            style = STATUS_STYLE[row.status]
            return [Text(c.text(row), style) for c in self.columns]
        return row_cells(row)

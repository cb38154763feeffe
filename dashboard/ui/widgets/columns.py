"""Table columns: what a cell shows, how it sorts, and how wide it may be.
Widths are in terminal cells (`rich.cells.cell_len`), so Chinese text aligns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

T = TypeVar("T")


def fit(text: str, width: int, align: Literal["left", "right"] = "left") -> str:
    """`text` padded or cut (with an ellipsis) to exactly `width` terminal cells."""
    length = cell_len(text)
    if length > width:
        if width <= 1:
            return set_cell_size(text, width)
        # The ellipsis right after the last character that fits (a wide one may leave a cell).
        cut = chop_to(text, width - 1)
        return cut + "…" + " " * (width - 1 - cell_len(cut))
    pad = " " * (width - length)
    return pad + text if align == "right" else text + pad


def chop_to(text: str, width: int) -> str:
    """The longest start of `text` at most `width` cells wide."""
    used = 0
    for i, char in enumerate(text):
        used += cell_len(char)
        if used > width:
            return text[:i]
    return text


@dataclass(slots=True)
class Column(Generic[T]):
    """One column: how to show a row's cell, and how to sort by it."""

    label: str
    text: Callable[[T], str]
    sort_key: Callable[[T], Any] | None = None  # default: the text; must never return None
    min_width: int = 4
    max_width: int = 40
    align: Literal["left", "right"] = "left"
    flex: bool = False  # takes the width left over by the others
    priority: int = 0  # when the screen is narrow, higher numbers are hidden first
    # Custom cell painter (e.g. a progress bar): (row, width, style) -> segments of `width` cells.
    paint: Callable[[T, int, Style], list[Segment]] | None = None
    width: int = field(default=0)  # current width, measured from rows

    def __post_init__(self) -> None:
        self.width = max(self.width, self.min_width)

    def key(self, row: T) -> Any:
        return self.sort_key(row) if self.sort_key else self.text(row)


def needed_width(columns: Sequence[Column[Any]]) -> int:
    return sum(c.min_width if c.flex else c.width for c in columns) + max(0, len(columns) - 1)


def lay_out(columns: Sequence[Column[Any]], width: int) -> tuple[list[tuple[Column[Any], int]], int]:
    """Widths for `columns` in `width` cells: the layout (the columns that fit, in
    their order, then the ones moved past the right edge) and how many fit.

    Each column asks for its content width (`Column.width`, measured); when that does
    not fit, the flex column shrinks to its minimum, then low-priority columns move
    past the edge (reachable by scrolling sideways), then the others shrink towards
    their minimum (their text ends in `…`), and last the rightmost ones move. The flex
    column takes what is left, so the table fills the screen."""
    shown = list(columns)
    while len(shown) > 1 and needed_width(shown) > width:
        drop = max(shown, key=lambda c: c.priority)
        if drop.priority == 0:
            break
        shown.remove(drop)
    widths = {id(c): c.min_width if c.flex else c.width for c in shown}
    excess = needed_width(shown) - width
    while excess > 0:
        slack = [c for c in shown if not c.flex and widths[id(c)] > c.min_width]
        if not slack:
            break
        widest = max(slack, key=lambda c: widths[id(c)] - c.min_width)
        cut = min(excess, widths[id(widest)] - widest.min_width, max(1, excess // len(slack)))
        widths[id(widest)] -= cut
        excess -= cut
    while len(shown) > 1 and sum(widths[id(c)] for c in shown) + len(shown) - 1 > width:
        shown.pop()
    spare = width - (sum(widths[id(c)] for c in shown) + len(shown) - 1)
    for c in shown:
        if c.flex:
            widths[id(c)] += max(0, spare)
    on_screen = {id(c) for c in shown}
    layout = [(c, widths[id(c)]) for c in columns if id(c) in on_screen]
    layout += [(c, c.width) for c in columns if id(c) not in on_screen]
    return layout, len(shown)

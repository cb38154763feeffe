"""A virtual table on Textual's line API: its cost follows the rows on screen.

Unlike the stock `DataTable`, which measures every cell of every row before it
paints, `VirtualTable` keeps the rows as a plain list, renders only the visible
ones as `Strip`s (cached per row key), sizes its columns from a sample of rows
(CJK-aware with `rich.cells.cell_len`) and widens a column on demand when a
wider cell scrolls into view. Sorting and filtering work on the list with cheap
key functions; the cursor is kept by row key, so new data keeps it in place.
Modelled on Toolong's `LogLines` (Textualize/toolong).
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, ClassVar, Generic

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from dashboard.core.collate import collate_keys
from dashboard.core.items import paused_gc
from dashboard.ui.theme import CURSOR_VARIABLE
from dashboard.ui.widgets.columns import Column, T, fit, lay_out

# Tables at least this long sort every column ahead, in a worker thread.
PRESORT_MIN_ROWS = 10_000

__all__ = ["Column", "VirtualTable", "fit"]

FIND_WINDOW = 500  # rows either side of the cursor searched first for its row after new data
SAMPLE_SIZE = 300  # rows measured to size columns; wider cells widen on demand
STRIP_CACHE_SIZE = 2000


def sort_positions(rows: Sequence[T], col: Column[T]) -> Sequence[int]:
    """Row positions in ascending order of the column's sort key, as a compact array
    (4 bytes a row instead of a list of int objects: 25 MiB less for seven columns
    of 100,000 rows kept ready by the presort). Text keys sort by pinyin, as Excel
    and WPS sort Chinese (one collation key per distinct string)."""
    with paused_gc():  # the keys may be 100,000 tuples: no cycles, nothing to scan
        keys = collate_keys(list(map(col.sort_key or col.text, rows)))
        return array("i", sorted(range(len(rows)), key=keys.__getitem__))


def filter_positions(
    positions: Sequence[int],
    rows: Sequence[T],
    text: str,
    hay: Sequence[str] | None,
    keep: Callable[[T], bool] | None,
) -> Sequence[int]:
    """The positions whose search text (`hay`, parallel to `rows`) holds every
    whitespace-separated term of `text` (as `dashboard export --filter`) and whose row
    `keep` accepts, in the given order."""
    if text and hay is not None:
        for term in text.split():
            positions = [i for i in positions if term in hay[i]]
    if keep is not None:
        positions = [i for i in positions if keep(rows[i])]
    return positions


def view_of(rows: list[T], positions: Sequence[int]) -> list[T]:
    """The rows at `positions`; `rows` itself when that is every row in order (no copy)."""
    if isinstance(positions, range) and len(positions) == len(rows):
        return rows
    return list(map(rows.__getitem__, positions))


class VirtualTable(ScrollView, Generic[T], can_focus=True):
    """A sortable, filterable table over a list of rows, rendered line by line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "上", show=False, id="table.up"),
        Binding("down", "cursor_down", "下", show=False, id="table.down"),
        Binding("pageup", "page_up", "上一页", show=False, id="table.page_up"),
        Binding("pagedown", "page_down", "下一页", show=False, id="table.page_down"),
        Binding("home", "first", "首行", show=False, id="table.first"),
        Binding("end", "last", "末行", show=False, id="table.last"),
        Binding("left", "scroll_columns(-1)", "左一列", show=False, id="table.left"),
        Binding("right", "scroll_columns(1)", "右一列", show=False, id="table.right"),
        Binding("enter", "select", "打开", id="table.select"),
        Binding("s", "sort_next", "排序", id="table.sort_next"),
        Binding("S", "sort_reverse", "倒序", show=False, id="table.sort_reverse"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "vtable--header",
        "vtable--cursor",
        "vtable--sorted",
        "vtable--empty",
    }

    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    """

    show_cursor: reactive[bool] = reactive(True)
    cursor_row: reactive[int] = reactive(0, always_update=True)

    class ViewUpdated(Message):
        """New rows are on show after a view computed in a worker (counts may have changed)."""

        def __init__(self, table: VirtualTable[Any]) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> VirtualTable[Any]:
            return self.table

    class RowSelected(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, table: VirtualTable[Any], row: Any) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> VirtualTable[Any]:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column[T]],
        key_of: Callable[[T], str],
        *,
        row_class: Callable[[T], str] | None = None,
        haystack: Callable[[T], str] | None = None,
        empty_text: str = "（没有数据 no data）",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        # Copies: widths are measured per table.
        self.columns: list[Column[T]] = [replace(c) for c in columns]
        self.key_of = key_of
        self.row_class = row_class
        self.haystack_of = haystack
        self.empty_text = empty_text
        self.rows: list[T] = []  # as given (the caller's default order)
        self._incoming: list[T] = self.rows  # the newest rows given, maybe still being sorted
        self._replaced: list[T] | None = None  # the view new rows replace (for `_show_view`)
        self._order: Sequence[int] = range(0)  # positions in `rows`, in the current sort
        self._view_positions: Sequence[int] = range(0)  # sorted positions passing the filters
        self._view: list[T] = []  # the rows on show
        self._cursor_pos = -1  # the cursor row's position in `rows`
        self._sorted: dict[int, Sequence[int]] = {}  # column -> ascending positions, until new rows
        self._haystack: list[str] | None = None  # lower-cased search text, parallel to `rows`
        self.sort_column: int | None = None
        self.sort_reverse = False
        self.filter_text = ""
        self.row_filter: Callable[[T], bool] | None = None
        self.cursor_key: str | None = None
        # Row key -> (the row object it was drawn from, its signature, its strip).
        self._strips: OrderedDict[str, tuple[T, tuple[str, ...], Strip]] = OrderedDict()
        self._layout: list[tuple[Column[T], int]] = []  # on screen first, then the hidden ones
        self._fitted = 0  # how many of `_layout` fit the screen; the rest are reached with ←/→
        self._layout_width = -1
        self._measured = False
        self._cursor_style: Style | None = None

    # -- data -------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return len(self._view)

    @property
    def view_rows(self) -> list[T]:
        """The rows on show, in order: what an export of this view writes."""
        return list(self._view)

    @property
    def cached_rows(self) -> int:
        """Rows drawn and cached so far: bounded by what has been on screen, not by `rows`."""
        return len(self._strips)

    @property
    def column_layout(self) -> list[tuple[Column[T], int]]:
        """The columns that fit the screen and their widths (a narrow screen moves
        low-priority ones past the right edge: `hidden_columns`)."""
        self._ensure_layout()
        return self._layout[: self._fitted]

    @property
    def hidden_columns(self) -> list[tuple[Column[T], int]]:
        """The columns laid out past the right edge, reached by scrolling with ←/→."""
        self._ensure_layout()
        return self._layout[self._fitted :]

    @property
    def position_text(self) -> str:
        """What the table's title (its bottom border) says: `第 3 / 45 行`, and the
        columns off screen."""
        n = len(self._view)
        text = f"第 {self.cursor_row + 1} / {n} 行" if self.show_cursor and n else f"共 {n} 行"
        hidden = len(self._layout) - self._fitted
        return f"{text} · ←→ 另有 {hidden} 列" if hidden > 0 else text

    @property
    def cursor_value(self) -> T | None:
        return self._view[self.cursor_row] if 0 <= self.cursor_row < len(self._view) else None

    def set_rows(self, rows: Iterable[T]) -> None:
        """Replace the data, keeping the sort, the filter, the cursor (by key) and the scroll.

        A list is taken as it is, not copied: the caller hands over rows it will not
        change (a snapshot's). Cached strips are checked lazily, for the rows that are
        drawn, by identity first: an unchanged row is the same object and is not drawn
        again. So without a sort or filter the cost of new data follows the rows on
        screen; with one, a long table computes its new view in a worker thread and the
        old view stays on screen until it is ready."""
        rows = rows if isinstance(rows, list) else list(rows)
        self._incoming = rows
        if len(rows) >= PRESORT_MIN_ROWS and (
            self.sort_column is not None or self.filter_text or self.row_filter is not None
        ):
            self._build_view(rows, self._view_params())
            return
        self._replaced = self._view
        self._take_rows(rows)
        self._reorder()
        self._after_new_rows()

    def _take_rows(self, rows: list[T]) -> None:
        self.rows = rows
        self._haystack = None
        self._sorted = {}
        if not self._measured and rows:
            self._measure()

    def _after_new_rows(self) -> None:
        if len(self.rows) >= PRESORT_MIN_ROWS:
            # After this frame, sort every column in a worker thread, so a sort key
            # only swaps in an order that is ready (at 100,000 rows a sort is ~60 ms).
            self.call_after_refresh(self._presort, self.rows, self._sorted)

    def _view_params(self) -> tuple[Any, ...]:
        return (self.sort_column, self.sort_reverse, self.filter_text, self.row_filter)

    # An explicit description: by default Textual builds one from the repr of every
    # argument, which for 100,000 rows is a 250 MiB string and a second of work.
    @work(thread=True, exclusive=True, group="view", description="build the table view")
    def _build_view(self, rows: list[T], params: tuple[Any, ...]) -> None:
        """The sorted, filtered view of new rows, off the UI thread; `_install_view` swaps it in."""
        column, reverse, text, keep = params
        ascending: Sequence[int] | None = None
        order: Sequence[int] = range(len(rows))
        if column is not None:
            col = self.columns[column]
            ascending = sort_positions(rows, col)
            order = ascending[::-1] if reverse else ascending
        hay = self._build_haystack(rows) if text else None
        positions = filter_positions(order, rows, text, hay, keep)
        view = view_of(rows, positions)
        if get_current_worker().is_cancelled:
            return
        self.app.call_from_thread(self._install_view, rows, params, ascending, order, hay, positions, view)

    def _install_view(
        self,
        rows: list[T],
        params: tuple[Any, ...],
        ascending: Sequence[int] | None,
        order: Sequence[int],
        hay: list[str] | None,
        positions: Sequence[int],
        view: list[T],
    ) -> None:
        if rows is not self._incoming:
            return  # newer rows arrived meanwhile
        self._replaced = self._view
        self._take_rows(rows)
        if params != self._view_params():  # the sort or filter changed meanwhile
            self._reorder()
        else:
            if ascending is not None:
                self._sorted[params[0]] = ascending
            self._haystack = hay
            self._order = order
            self._show_view(positions, view)
        self._after_new_rows()
        self.post_message(self.ViewUpdated(self))

    @work(thread=True, exclusive=True, group="presort", description="presort the table")
    def _presort(self, rows: list[T], target: dict[int, Sequence[int]]) -> None:
        """Ascending orders of every column for `rows`, into `target` (the dict that
        belongs to these rows: new rows get a new one, so a late result is dropped)."""
        worker = get_current_worker()
        for index, col in enumerate(self.columns):
            if worker.is_cancelled or target is not self._sorted:
                return
            if index in target:
                continue
            target.setdefault(index, sort_positions(rows, col))

    def _signature(self, row: T) -> tuple[str, ...]:
        return (*(c.text(row) for c in self.columns), self.row_class(row) if self.row_class else "")

    def sort_by(self, column: int | None, reverse: bool = False) -> None:
        self.sort_column, self.sort_reverse = column, reverse
        self._reorder()

    def set_filter(
        self, text: str | None = None, row_filter: Callable[[T], bool] | bool | None = False
    ) -> None:
        """Filter by text (each term a substring of the row's search text, any case) and/or
        a predicate (`False` keeps the current one)."""
        narrower = False
        if text is not None:
            text = text.strip().casefold()
            # Typing one more letter only narrows the rows already shown.
            narrower = bool(self.filter_text) and text.startswith(self.filter_text)
            self.filter_text = text
        if row_filter is not False:
            self.row_filter = row_filter  # type: ignore[assignment]
            narrower = False
        self._apply_filter(narrower)

    def prepare_filter(self) -> None:
        """Build the search text now (e.g. when the filter box opens), not on the first key."""
        self._hay()

    def _build_haystack(self, rows: Sequence[T]) -> list[str]:
        """Each row's lower-cased search text (what `/` looks in), parallel to `rows`."""
        of = self.haystack_of or (lambda r: " ".join(c.text(r) for c in self.columns))
        return [of(r).casefold() for r in rows]

    def _hay(self) -> list[str]:
        if self._haystack is None:
            self._haystack = self._build_haystack(self.rows)
        return self._haystack

    def _reorder(self) -> None:
        """Sort row positions by the sort column's key (computed once per row)."""
        if self.sort_column is None:
            self._order = range(len(self.rows))
        else:
            ascending = self._sorted.get(self.sort_column)
            if ascending is None:
                ascending = self._sorted[self.sort_column] = sort_positions(
                    self.rows, self.columns[self.sort_column]
                )
            self._order = ascending[::-1] if self.sort_reverse else ascending
        self._apply_filter()

    def _apply_filter(self, narrower: bool = False) -> None:
        positions = filter_positions(
            self._view_positions if narrower else self._order,
            self.rows,
            self.filter_text,
            self._hay() if self.filter_text else None,
            None if narrower else self.row_filter,  # the rows shown passed it already
        )
        self._show_view(positions, view_of(self.rows, positions))

    def _show_view(self, positions: Sequence[int], view: list[T]) -> None:
        self._view_positions = positions
        self._view = view
        replaced, self._replaced = self._replaced, None
        # The size first, so that scrolling to the cursor is not clamped to the old one.
        size = Size(self._total_width(), len(self._view) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self._restore_cursor()
        self._update_title()
        if replaced is None:
            self.refresh()  # a new sort or filter: every line
        else:
            self._refresh_changed_lines(replaced)

    def _refresh_changed_lines(self, replaced: list[T]) -> None:
        """After new rows: repaint only the visible lines whose row is not the same object
        as before (an unchanged item keeps its object), so a refresh where 1% changed
        repaints the few changed lines on screen, if any."""
        view = self._view
        top = round(self.scroll_y)
        run_start = -1
        for i in range(top, top + max(0, self.size.height - 1) + 1):
            old = replaced[i] if i < len(replaced) else None
            new = view[i] if i < len(view) else None
            if old is not new:
                if run_start < 0:
                    run_start = i
            elif run_start >= 0:
                self.refresh_lines(run_start + 1, i - run_start)  # line 0 is the header
                run_start = -1
        if run_start >= 0:
            self.refresh_lines(run_start + 1, top + self.size.height - run_start)

    def _restore_cursor(self) -> None:
        index = 0
        view = self._view
        if self.cursor_key is not None:
            current = view[self.cursor_row] if self.cursor_row < len(view) else None
            if current is not None and self.key_of(current) == self.cursor_key:
                index = self.cursor_row
            else:
                index = self._find(self.cursor_key)
                if index < 0:  # the row left the view: stay at the same position
                    index = min(self.cursor_row, max(0, len(view) - 1))
        self.set_cursor(index, scroll=True)

    def _find(self, key: str) -> int:
        """Index in the view of the row with `key`, or -1. After a sort or filter the
        row's position in `rows` is found among the view's positions (C-speed ints);
        after new rows, near where the cursor was first (a refresh moves rows a little)."""
        pos = self._cursor_pos
        if 0 <= pos < len(self.rows) and self.key_of(self.rows[pos]) == key:
            try:
                return self._view_positions.index(pos)
            except ValueError:
                return -1
        key_of, view = self.key_of, self._view
        low = max(0, self.cursor_row - FIND_WINDOW)
        for i, row in enumerate(view[low : self.cursor_row + FIND_WINDOW], low):
            if key_of(row) == key:
                return i
        return next((i for i, r in enumerate(view) if key_of(r) == key), -1)

    def set_cursor(self, index: int, *, scroll: bool = True) -> None:
        index = max(0, min(index, len(self._view) - 1)) if self._view else 0
        if index != self.cursor_row:  # a reactive set (and a refresh) only when it moves
            self.cursor_row = index
        value = self.cursor_value
        self.cursor_key = self.key_of(value) if value is not None else None
        self._cursor_pos = self._view_positions[index] if value is not None else -1
        self._update_title()
        if scroll:
            self._scroll_cursor_into_view()

    def _update_title(self) -> None:
        title = self.position_text
        if title != self.border_subtitle:  # a changed title repaints the border only
            self.border_subtitle = title

    def move_cursor_to_key(self, key: str) -> bool:
        for i, row in enumerate(self._view):
            if self.key_of(row) == key:
                self.set_cursor(i)
                return True
        return False

    def cells(self, row: T) -> list[Text]:
        """A row's cells as rich Text, in column order, styled by the row's class."""
        return [Text(c.text(row)) for c in self.columns]

    def get_row_at(self, index: int) -> list[Text]:
        return self.cells(self._view[index])

    def get_row(self, key: str) -> list[Text]:
        for row in self.rows:
            if self.key_of(row) == key:
                return self.cells(row)
        raise KeyError(key)

    # -- layout -----------------------------------------------------------------
    def _measure(self) -> None:
        """Column widths from the label and a sample of rows spread over the data
        (the flex column too: its content width is what it asks for first)."""
        rows = self.rows
        step = max(1, len(rows) // SAMPLE_SIZE)
        sample = rows[::step][:SAMPLE_SIZE]
        for col in self.columns:
            widest = max((cell_len(col.text(r)) for r in sample), default=0)
            col.width = max(col.min_width, min(col.max_width, max(widest, cell_len(col.label) + 2)))
        self._measured = True
        self._layout_width = -1

    def _total_width(self) -> int:
        self._ensure_layout()
        return sum(w for _, w in self._layout) + max(0, len(self._layout) - 1)

    def _ensure_layout(self) -> None:
        # Always leave room for the vertical scrollbar, so its arrival never forces a
        # horizontal one (and the layout does not depend on when it appeared).
        width = max(1, self.size.width - self.styles.scrollbar_size_vertical)
        if width == self._layout_width and self._layout:
            return
        self._layout_width = width
        self._layout, self._fitted = lay_out(self.columns, width)
        self._strips.clear()
        if self.is_mounted:
            self._update_title()

    def on_resize(self, event: events.Resize) -> None:
        self._layout_width = -1
        self.virtual_size = Size(self._total_width(), len(self._view) + 1)
        self._scroll_cursor_into_view()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._cursor_style = None

    def _cursor_overlay(self) -> Style:
        """The cursor row's own background (and text style), laid over each cell's
        style: it wins over the status colours' backgrounds, the cells keep their
        foreground (item 45 stays red on the cursor's background)."""
        if self._cursor_style is None:
            full = self.get_component_rich_style("vtable--cursor")  # background blended
            own = self.get_component_rich_style("vtable--cursor", partial=True)
            themed = self.app.current_theme.variables.get(CURSOR_VARIABLE)
            background = Color.parse(themed).rich_color if themed else full.bgcolor
            self._cursor_style = Style(
                bgcolor=background, bold=own.bold, underline=own.underline, reverse=own.reverse
            )
        return self._cursor_style

    # -- rendering --------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        self._ensure_layout()
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            strip = self._header_strip()
        else:
            index = scroll_y + y - 1
            if index >= len(self._view):
                if index == 0:
                    empty = self.get_component_rich_style("vtable--empty")
                    return Strip([Segment(fit(self.empty_text, width), base + empty)], width)
                return Strip.blank(width, base)
            strip = self._row_strip(self._view[index])
            if index == self.cursor_row and self.show_cursor:
                # Over the cells' styles, not under them (`Strip.apply_style` puts it
                # under), across the whole width.
                strip = strip.crop_extend(scroll_x, scroll_x + width, base)
                overlay = Segment.apply_style(iter(strip), post_style=self._cursor_overlay())
                return Strip(list(overlay), width)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header_strip(self) -> Strip:
        base = self.rich_style + self.get_component_rich_style("vtable--header")
        sorted_style = base + self.get_component_rich_style("vtable--sorted")
        segments: list[Segment] = []
        for i, (col, w) in enumerate(self._layout):
            if i:
                segments.append(Segment(" ", base))
            label = col.label
            is_sorted = self.sort_column is not None and self.columns[self.sort_column] is col
            if is_sorted:
                label += " ▼" if self.sort_reverse else " ▲"
            segments.append(Segment(fit(label, w, col.align), sorted_style if is_sorted else base))
        return Strip(segments).extend_cell_length(max(self._layout_width, self._total_width()), base)

    def _row_strip(self, row: T) -> Strip:
        key = self.key_of(row)
        cached = self._strips.get(key)
        if cached is not None:
            drawn, signature, strip = cached
            # Same object: unchanged. New object (a refresh): redraw only if its cells changed.
            if drawn is row or signature == self._signature(row):
                self._strips[key] = (row, signature, strip)
                self._strips.move_to_end(key)
                return strip
        base = self.rich_style
        style = base + self.get_component_rich_style(self.row_class(row)) if self.row_class else base
        segments: list[Segment] = []
        widened = False
        for i, (col, w) in enumerate(self._layout):
            if i:
                segments.append(Segment(" ", base))
            if col.paint is not None:
                segments.extend(col.paint(row, w, style))
                continue
            text = col.text(row)
            if col.width < col.max_width and cell_len(text) > col.width:
                col.width = min(col.max_width, cell_len(text))  # widen on demand
                widened = True
            segments.append(Segment(fit(text, w, col.align), style))
        if widened:
            self._layout_width = -1
            self.call_later(self._relayout)
        strip = Strip(segments)
        self._strips[key] = (row, self._signature(row), strip)
        if len(self._strips) > STRIP_CACHE_SIZE:
            self._strips.popitem(last=False)
        return strip

    def _relayout(self) -> None:
        self.virtual_size = Size(self._total_width(), len(self._view) + 1)
        self.refresh()

    # -- cursor and scrolling -----------------------------------------------------
    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def watch_cursor_row(self) -> None:
        self.refresh()  # cheap: every visible row is a cached strip

    def watch_show_cursor(self) -> None:
        self.refresh()

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        page = self._page
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False)

    def action_cursor_up(self) -> None:
        self.set_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.set_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.scroll_to(y=max(0, self.scroll_y - self._page), animate=False)
        self.set_cursor(self.cursor_row - self._page)

    def action_page_down(self) -> None:
        self.scroll_to(y=self.scroll_y + self._page, animate=False)
        self.set_cursor(self.cursor_row + self._page)

    def action_first(self) -> None:
        self.set_cursor(0)

    def action_last(self) -> None:
        self.set_cursor(len(self._view) - 1)

    def action_select(self) -> None:
        value = self.cursor_value
        if value is not None:
            self.post_message(self.RowSelected(self, value))

    def action_sort_next(self) -> None:
        """Sort by the next column (from the default order to column 1, 2, ...)."""
        nxt = 0 if self.sort_column is None else self.sort_column + 1
        self.sort_by(nxt if nxt < len(self.columns) else None)

    def action_scroll_columns(self, step: int) -> None:
        """Scroll sideways one column (←/→): the columns past the right edge come into view."""
        starts = [0]
        for _, w in self._layout:
            starts.append(starts[-1] + w + 1)
        x = round(self.scroll_x)
        if step > 0:
            target = next((s for s in starts[1:-1] if s > x), x)
        else:
            target = next((s for s in reversed(starts[:-1]) if s < x), 0)
        self.scroll_to(x=min(target, self.max_scroll_x), animate=False)

    def action_sort_reverse(self) -> None:
        if self.sort_column is not None:
            self.sort_by(self.sort_column, not self.sort_reverse)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x + round(self.scroll_x))
            if column is not None:
                same = column == self.sort_column
                self.sort_by(column, reverse=same and not self.sort_reverse)
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._view):
            self.set_cursor(index, scroll=False)
            if event.chain == 2:
                self.action_select()

    def _column_at(self, x: int) -> int | None:
        left = 0
        for col, w in self._layout:
            if left <= x < left + w + 1:
                return self.columns.index(col)
            left += w + 1
        return None

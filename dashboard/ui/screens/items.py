"""Screens built around the item table: the overview and the item lists that
lead units, projects and the kiosk's "behind" view drill into."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Input, Static

from dashboard.core.items import Evaluated, Status
from dashboard.runtime import Snapshot
from dashboard.ui.screens.base import DataScreen, describe_filter
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.headline import Headline
from dashboard.ui.widgets.item_table import ItemTable
from dashboard.ui.widgets.status_bar import StatusBar, stale_sources
from dashboard.ui.widgets.table import VirtualTable
from dashboard.views import TableView

# Number keys: quick status filters, in the order of the headline cards.
STATUS_KEYS: dict[str, Status] = {
    "1": Status.DONE,
    "2": Status.ON_TRACK,
    "3": Status.LAGGING,
    "4": Status.SEVERE,
    "5": Status.UNKNOWN,
}


class ItemsScreen(DataScreen):
    """An item table with `/` text filter and number-key status filters; `Enter` opens an item."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "start_filter", "筛选", key_display="/", id="items.filter"),
        *(
            Binding(k, f"status_filter('{s.value}')", f"{s.label}", show=False, id=f"items.status_{s.value}")
            for k, s in STATUS_KEYS.items()
        ),
        Binding("0", "clear_filters", "全部 All", show=False, id="items.all"),
        Binding("escape", "escape", "返回/清除筛选", show=False, id="items.escape"),
        Binding("c", "open_case", "立案督办", show=False, id="items.open_case"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.statuses: set[Status] = set()
        # Looked up once (every refresh and keystroke needs them), and the note's last text.
        self._table: ItemTable | None = None
        self._note: Static | None = None
        self._note_text = ""

    @property
    def table(self) -> ItemTable:
        if self._table is None:
            self._table = self.query_one("#items", ItemTable)
        return self._table

    def compose_table(self) -> ComposeResult:
        yield Static(id="view-note", classes="view-note")
        yield Input(placeholder="筛选：名称 / 牵头单位 / 类别 / 项目 (Enter 确定，Esc 清除)", id="filter")
        yield ItemTable()
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        super().on_mount()
        self.table.focus()

    def rows_of(self, snap: Snapshot) -> list[Evaluated]:
        return snap.evaluated

    def show_snapshot(self, snap: Snapshot) -> None:
        self.table.set_rows(self.rows_of(snap))
        self._update_note()

    # -- filters ------------------------------------------------------------------
    def action_start_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()
        self.table.prepare_filter()  # paid while the user reaches for the first letter

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.table.set_filter(event.value)
            self._update_note()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value.strip():
                event.input.display = False
            self.table.set_cursor(0)
            self.table.focus()

    def action_status_filter(self, value: str) -> None:
        status = Status(value)
        # A second press of the same key shows every status again.
        self.statuses = set() if self.statuses == {status} else {status}
        self._apply_status_filter()

    def _apply_status_filter(self) -> None:
        wanted = frozenset(self.statuses)
        self.table.set_filter(row_filter=(lambda e: e.status in wanted) if wanted else None)
        self._update_note()

    def action_clear_filters(self) -> None:
        self.statuses = set()
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.set_filter("", row_filter=None)
        self.table.focus()
        self._update_note()

    def action_escape(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus or box.value or self.statuses:
            self.action_clear_filters()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def filter_description(self) -> str:
        return describe_filter(
            self.table.filter_text, [s.label for s in sorted(self.statuses, key=lambda s: s.rank)]
        )

    def _update_note(self) -> None:
        note = self.filter_description()
        shown = f"显示 {self.table.row_count} / {len(self.table.rows)} 项"
        text = f"{self.VIEW_TITLE}  {shown}  {note}".strip()
        if self._note is None:
            self._note = self.query_one("#view-note", Static)
        if text != self._note_text:
            self._note_text = text
            self._note.update(Text(text), layout=False)  # one line, fixed height

    def on_virtual_table_view_updated(self, event: VirtualTable.ViewUpdated) -> None:
        self._update_note()  # a long table's new view arrived from its worker

    # -- drill-down and export ------------------------------------------------------
    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        from dashboard.ui.screens.detail import ItemDetailScreen

        event.stop()
        self.app.push_screen(ItemDetailScreen(event.row.item.id))

    def action_open_case(self) -> None:
        from dashboard.ui.screens.case_dialog import start_case

        row = self.table.cursor_value
        if row is not None:
            start_case(self, row.item.id)

    def export_view(self) -> TableView:
        from dashboard.views import items_view

        return items_view(
            self.table.view_rows, self.VIEW_TITLE or "项目", self.notes(self.filter_description())
        )


class OverviewScreen(ItemsScreen):
    """总览: headline figures, then every item, worst first."""

    VIEW_TITLE = "总览 Overview"
    _headline: Headline | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Headline(id="headline")
        yield from self.compose_table()

    def on_mount(self) -> None:
        super().on_mount()
        # `数据过期 STALE` depends on the clock, not only on new data: look again every second
        # (the headline redraws nothing when its text is the same).
        self.set_interval(1.0, self._tick_stale)

    def _tick_stale(self) -> None:
        snap = self.dash.snapshot
        if snap is not None and self.is_current and self._headline is not None:
            self.show_counts(snap)

    def show_snapshot(self, snap: Snapshot) -> None:
        self.show_counts(snap)
        super().show_snapshot(snap)

    def show_counts(self, snap: Snapshot) -> None:
        stale = bool(stale_sources(snap.sources, self.dash.now()))
        if self._headline is None:
            self._headline = self.query_one(Headline)
        self._headline.show(snap, self.dash.open_alerts, self.dash.refreshed_text(snap), stale)


class ItemListScreen(ItemsScreen):
    """The items of one lead unit or project (a drill-down), or the items behind."""

    def __init__(self, title: str, select: Callable[[Evaluated], bool]) -> None:
        super().__init__()
        self.VIEW_TITLE = title
        self.select = select

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_table()

    def rows_of(self, snap: Snapshot) -> list[Evaluated]:
        return [e for e in snap.evaluated if self.select(e)]


class BehindScreen(ItemListScreen):
    """严重滞后与滞后: the kiosk's third view."""

    def __init__(self) -> None:
        super().__init__("滞后项目 Behind", lambda e: e.status in (Status.SEVERE, Status.LAGGING))

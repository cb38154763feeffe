"""Sources: each source's type, state, last attempt, last success, item count, age,
error text and row warnings, live (ages tick every second); then the alert sinks and
their outboxes. Enter opens a source (dashboard.ui.screens.source_detail)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Header, Static

from dashboard.runtime import Snapshot, SourceState
from dashboard.ui.screens.base import DataScreen
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar, age_text, is_stale
from dashboard.ui.widgets.table import Column, VirtualTable
from dashboard.views import Cell, TableView
from dashboard.views import Column as ViewColumn


def _time(value: datetime | None) -> str:
    return f"{value:%m-%d %H:%M:%S}" if value else "—"


def state_label(state: SourceState, now: datetime) -> str:
    if state.ok is None:
        return "未载入 pending"
    if state.ok is False:
        return "失败 failed"
    return "过期 stale" if is_stale(state, now) else "正常 ok"


def state_class(state: SourceState, now: datetime) -> str:
    if state.ok is None:
        return "status--unknown"
    if state.ok is False:
        return "status--severe"
    return "status--lagging" if is_stale(state, now) else "status--done"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One line of the sources screen as of one moment. The runtime mutates a
    `SourceState` in place, so the table could not tell a changed state from the one it
    drew; a new row each refresh and each tick can (unchanged lines keep their strips)."""

    state: SourceState
    label: str
    css: str
    age: str
    fetching: str

    @property
    def name(self) -> str:
        return self.state.name


def source_rows(
    states: list[SourceState], now: datetime, fetching: dict[str, tuple[float, int | None]]
) -> list[SourceRow]:
    rows = []
    for s in states:
        age = age_text((now - s.last_success).total_seconds()) if s.last_success else "—"
        running = fetching.get(s.name)
        reading = f"读取中 {age_text(running[0])}" if running else ""
        if running and running[1] is not None:
            reading += f" {running[1]} 行"
        rows.append(SourceRow(s, state_label(s, now), state_class(s, now), age, reading))
    return rows


def warnings_cell(row: SourceRow) -> str:
    count = len(row.state.warnings)
    return f"⚠ {count} 行" if count else ""


COLUMNS: list[Column[SourceRow]] = [
    Column("名称", lambda r: r.name, min_width=8, max_width=24),
    Column("类型", lambda r: r.state.spec.type, min_width=6, max_width=14),
    Column("状态", lambda r: r.label, min_width=8, max_width=14),
    Column("上次尝试", lambda r: _time(r.state.last_attempt), min_width=14, max_width=14, priority=3),
    Column("上次成功", lambda r: _time(r.state.last_success), min_width=14, max_width=14, priority=2),
    Column(
        "项目数",
        lambda r: str(len(r.state.items)),
        sort_key=lambda r: len(r.state.items),
        min_width=6,
        max_width=8,
        align="right",
    ),
    Column("数据龄", lambda r: r.age, min_width=8, max_width=10),
    Column("错误信息", lambda r: r.state.error or r.fetching, min_width=10, max_width=80, flex=True),
    Column(
        "警告",
        warnings_cell,
        sort_key=lambda r: len(r.state.warnings),
        min_width=8,
        max_width=10,
        priority=1,
    ),
]


class SourcesScreen(DataScreen):
    """数据源 Sources. Enter opens a source: its error, times and every row warning."""

    VIEW_TITLE = "数据源 Sources"
    TICK = 1.0  # seconds between redraws of the ages

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            self.VIEW_TITLE + "   Enter 查看数据源详情与数据警告", id="view-note", classes="view-note"
        )
        yield StatusTable(
            COLUMNS,
            key_of=lambda r: r.name,
            row_class=lambda r: r.css,
            empty_text="（没有配置数据源 no sources configured）",
            id="sources",
        )
        yield Static("预警推送 alert sinks", classes="section")
        yield Static(id="sinks")
        yield Static(id="plugin-problems")
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    @property
    def table(self) -> StatusTable[SourceState]:
        return self.query_one("#sources", StatusTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()
        self.show_rows(list(self.dash.runtime.states.values()))  # before the first data, too
        self.set_interval(self.TICK, self.tick)

    def tick(self) -> None:
        """Ages and fetches in flight move on by themselves; only changed lines are redrawn."""
        if self.is_current:
            self.show_rows(list(self.dash.runtime.states.values()))

    def show_rows(self, states: list[SourceState]) -> None:
        fetching = getattr(self.dash.runtime, "fetching", None)
        self.table.set_rows(source_rows(states, self.dash.now(), fetching() if callable(fetching) else {}))

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        from dashboard.ui.screens.source_detail import SourceDetailScreen  # it imports this module

        event.stop()
        self.app.push_screen(SourceDetailScreen(event.row.name))

    def show_snapshot(self, snap: Snapshot) -> None:
        self.show_rows(snap.sources)
        self.query_one("#sinks", Static).update(self._sinks_text())
        problems = self.query_one("#plugin-problems", Static)
        problems.update(text := self._plugin_problems_text())
        problems.display = bool(text)  # no room taken when every plugin is well

    def _plugin_problems_text(self) -> Text:
        """One line per plugin that failed to load or misbehaved; nothing when all are well."""
        problems = getattr(self.dash.runtime, "plugin_problems", None)
        rows: list[tuple[str, str, str]] = problems() if callable(problems) else []
        text = Text()
        if rows:
            text.append("插件问题 plugin problems\n", "bold")
        for name, origin, error in rows:
            text.append(f"✗ {name}", "bold red")
            text.append(f" ({origin})  {error}\n", "red")
        return text

    def _sinks_text(self) -> Text:
        text = Text()
        status = self.dash.sink_status()
        if not status:
            text.append("（没有预警推送 no sinks）", "dim")
        for sink in status:
            name, kind = _field(sink, "name"), _field(sink, "type")
            pending, error = _field(sink, "pending") or 0, _field(sink, "last_error")
            text.append(f"{name} ({kind})  待发送 pending {pending}", "bold red" if error else "")
            if error:
                text.append(f"  ✗ {error}", "red")
            elif _field(sink, "waiting") and pending:
                text.append(f"  限流等待 {_field(sink, 'waiting')}", "yellow")
            text.append("\n")
        return text

    def export_view(self) -> TableView:
        now = self.dash.now()
        columns = [ViewColumn(c.label) for c in self.table.columns]
        rows: list[list[Cell]] = [[c.text(r) for c in self.table.columns] for r in self.table.view_rows]
        return TableView("sources", self.VIEW_TITLE, columns, rows, notes=[f"导出于 {now:%Y-%m-%d %H:%M}"])


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

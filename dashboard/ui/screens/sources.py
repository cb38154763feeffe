"""Sources: each source's type, state, last attempt, last success, item count,
error text and age; then the alert sinks and their outboxes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from dashboard.runtime import Snapshot, SourceState
from dashboard.ui.screens.base import DataScreen
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar, age_text, is_stale
from dashboard.ui.widgets.table import Column
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


class SourcesScreen(DataScreen):
    """数据源 Sources."""

    VIEW_TITLE = "数据源 Sources"

    def compose(self) -> ComposeResult:
        now = self.dash.now

        def age(s: SourceState) -> str:
            return age_text((now() - s.last_success).total_seconds() if s.last_success else None)

        columns: list[Column[SourceState]] = [
            Column("名称", lambda s: s.name, min_width=8, max_width=24),
            Column("类型", lambda s: s.spec.type, min_width=6, max_width=14),
            Column("状态", lambda s: state_label(s, now()), min_width=8, max_width=14),
            Column("上次尝试", lambda s: _time(s.last_attempt), min_width=14, max_width=14, priority=3),
            Column("上次成功", lambda s: _time(s.last_success), min_width=14, max_width=14, priority=2),
            Column(
                "项目数",
                lambda s: str(len(s.items)),
                sort_key=lambda s: len(s.items),
                min_width=6,
                max_width=8,
                align="right",
            ),
            Column("数据龄", age, min_width=8, max_width=10),
            Column("错误信息", lambda s: s.error or "", min_width=10, max_width=80, flex=True),
        ]
        yield Header()
        yield Static(self.VIEW_TITLE, id="view-note", classes="view-note")
        yield StatusTable(
            columns,
            key_of=lambda s: s.name,
            row_class=lambda s: state_class(s, now()),
            empty_text="（没有配置数据源 no sources configured）",
            id="sources",
        )
        yield Static("预警推送 alert sinks", classes="section")
        yield Static(id="sinks")
        yield Static(id="plugin-problems")
        yield StatusBar(id="status-bar")
        yield Footer()

    @property
    def table(self) -> StatusTable[SourceState]:
        return self.query_one("#sources", StatusTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()

    def show_snapshot(self, snap: Snapshot) -> None:
        self.table.set_rows(snap.sources)
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
            text.append("\n")
        return text

    def export_view(self) -> TableView:
        now = self.dash.now()
        columns = [ViewColumn(c.label) for c in self.table.columns]
        rows: list[list[Cell]] = [[c.text(s) for c in self.table.columns] for s in self.table.view_rows]
        return TableView("sources", self.VIEW_TITLE, columns, rows, notes=[f"导出于 {now:%Y-%m-%d %H:%M}"])


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

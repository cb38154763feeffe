"""One source (Enter on the sources screen): its state and error, last attempt and last
success with their ages, and every row warning (file, row, column, message) that
`dashboard check` prints. Exports with `e` like any view; `Esc` goes back."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Static

from dashboard.core.items import DataWarning
from dashboard.runtime import Snapshot, SourceState
from dashboard.ui.screens.base import DataScreen
from dashboard.ui.screens.sources import state_label
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar, age_text, fetching_text
from dashboard.ui.widgets.table import Column
from dashboard.views import TableView, source_detail_view, source_notes

# (position in the source's list, the warning): positions keep equal warnings apart.
WarningRow = tuple[int, DataWarning]

WARNING_COLUMNS: list[Column[WarningRow]] = [
    Column("文件", lambda r: r[1].location or r[1].source, min_width=8, max_width=48, priority=2),
    Column(
        "行",
        lambda r: "" if r[1].row is None else str(r[1].row),
        sort_key=lambda r: r[1].row if r[1].row is not None else -1,
        min_width=4,
        max_width=8,
        align="right",
    ),
    Column("列", lambda r: r[1].column or "", min_width=6, max_width=16),
    Column("内容", lambda r: r[1].message, min_width=20, max_width=200, flex=True),
]


def _stamp(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "—"
    return f"{value:%Y-%m-%d %H:%M:%S}（{age_text((now - value).total_seconds())}前）"


class SourceDetailScreen(DataScreen):
    """The state of one source and its row warnings; follows every refresh, ages tick."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "返回", id="source.back"),
    ]
    VIEW_TITLE = "数据源详情 Source"
    TICK = 1.0

    def __init__(self, source_name: str) -> None:
        super().__init__()
        self.source_name = source_name
        self._facts_shown = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="source-facts")
        yield Static("数据警告 row warnings", classes="section")
        yield StatusTable(
            WARNING_COLUMNS,
            key_of=lambda r: str(r[0]),
            empty_text="（没有数据警告 no row warnings）",
            id="source-warnings",
        )
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    @property
    def state(self) -> SourceState | None:
        return self.dash.runtime.states.get(self.source_name)

    @property
    def table(self) -> StatusTable[WarningRow]:
        return self.query_one("#source-warnings", StatusTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = f"数据源 {self.source_name}"  # after the view's title the base sets
        self.table.focus()
        self.show_source()
        self.set_interval(self.TICK, self.tick)

    def tick(self) -> None:
        if self.is_current:
            self.show_source()

    def action_back(self) -> None:
        self.dismiss()

    def show_snapshot(self, snap: Snapshot) -> None:
        self.show_source()

    def show_source(self) -> None:
        state = self.state
        facts = self.query_one("#source-facts", Static)
        if state is None:
            facts.update(Text(f"数据源 {self.source_name} 已不在配置中", "bold yellow"))
            return
        now = self.dash.now()
        label = state_label(state, now)
        style = {"正": "bold green", "失": "bold red", "过": "bold yellow"}.get(label[0], "dim")
        text = Text.assemble(
            (state.name, "bold"),
            f"（{state.spec.type}）   ",
            (label, style),
            f"   项目数 {len(state.items)}   数据警告 {len(state.warnings)} 行\n",
            f"上次尝试 last attempt  {_stamp(state.last_attempt, now)}\n",
            f"上次成功 last success  {_stamp(state.last_success, now)}",
        )
        fetching = getattr(self.dash.runtime, "fetching", None)
        running = {k: v for k, v in (fetching() if callable(fetching) else {}).items() if k == state.name}
        if running:
            text.append(f"\n{fetching_text(running)}", "bold")
        if state.error:
            text.append("\n错误 error: ", "bold red")
            text.append(state.error, "red")
        if text.plain != self._facts_shown:  # the ages tick: update only when a second shows
            self._facts_shown = text.plain
            facts.update(text)
        rows = list(enumerate(state.warnings))
        if [w for _, w in rows] != [w for _, w in self.table.rows]:
            self.table.set_rows(rows)

    def export_view(self) -> TableView | None:
        state = self.state
        if state is None:
            return None
        now = self.dash.now()
        notes = [*source_notes(state), f"导出于 {now:%Y-%m-%d %H:%M}"]
        return source_detail_view(state, f"数据源 {state.name} 数据警告", notes)

"""The Textual app. `make_app` is the one factory the CLI and the tests both use."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Static

from dashboard.config import Config
from dashboard.core.items import Evaluated, Status
from dashboard.core.parse import format_percent
from dashboard.runtime import Runtime, Snapshot

STATUS_STYLE = {
    Status.DONE: "green",
    Status.ON_TRACK: "",
    Status.LAGGING: "yellow",
    Status.SEVERE: "bold red",
    Status.UNKNOWN: "grey50",
}
COLUMNS = ("实事类别", "项目名称", "牵头单位", "任务数", "进度情况", "完成比例", "状态")


def ratio_bar(ratio: float | None, width: int = 10) -> str:
    if ratio is None:
        return " " * width
    filled = max(0, min(width, round(min(ratio, 1.0) * width)))
    return "█" * filled + "░" * (width - filled)


class Headline(Static):
    """Counts per status."""

    def show(self, snap: Snapshot) -> None:
        c = snap.by_status
        text = Text()
        text.append(f" 截止 {snap.as_of:%Y-%m-%d}  序时进度 {format_percent(snap.expected, 0)}   ")
        text.append(f"总数 {len(snap.evaluated)}   ")
        text.append(f"已完成 {c['done']}   ", "green")
        text.append(f"正常 {c['on_track']}   ")
        text.append(f"滞后 {c['lagging']}   ", "yellow")
        text.append(f"严重滞后 {c['severe']}   ", "bold red")
        text.append(f"未知 {c['unknown']}", "grey50")
        self.update(text)


class DashboardApp(App[None]):
    CSS_PATH = Path(__file__).with_name("dashboard.tcss")
    TITLE = "专班看板"
    BINDINGS = [
        Binding("r", "reload", "刷新 Reload"),
        Binding("q", "quit", "退出 Quit"),
    ]

    def __init__(self, config: Config, runtime: Runtime) -> None:
        super().__init__()
        self.config = config
        self.runtime = runtime
        self.snapshot: Snapshot | None = None
        self.sub_title = config.title

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="headline-bar"):
            yield Headline(id="headline")
        yield DataTable(id="items", cursor_type="row", zebra_stripes=True)
        yield Static(id="status-bar")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#items", DataTable)
        for label in COLUMNS:
            table.add_column(label, key=label)
        self.action_reload()

    def action_reload(self) -> None:
        self.reload()

    @work(exclusive=True, group="refresh")
    async def reload(self) -> None:
        await self.runtime.refresh_all()
        self.show(self.runtime.snapshot())

    def show(self, snap: Snapshot) -> None:
        self.snapshot = snap
        self.query_one(Headline).show(snap)
        table = self.query_one("#items", DataTable)
        table.clear()
        for e in snap.evaluated:
            table.add_row(*row_cells(e), key=e.item.id)
        failed = [s for s in snap.sources if s.ok is False]
        bar = self.query_one("#status-bar", Static)
        bar.update(
            Text("  ".join(f"✗ {s.name}: {s.error}" for s in failed), "red")
            if failed
            else Text(f"数据源 {len(snap.sources)} 个正常  更新于 {snap.taken_at:%H:%M:%S}", "dim")
        )


def row_cells(e: Evaluated) -> list[Text]:
    item = e.item
    style = STATUS_STYLE[e.status]
    ratio = Text(f"{ratio_bar(item.ratio)} {format_percent(item.ratio):>7}", style)
    return [
        Text(item.category, style),
        Text(item.name, style),
        Text(item.unit, style),
        Text(item.target_text, style),
        Text(item.progress_text[:30], style),
        ratio,
        Text(e.status.label, style),
    ]


def make_app(config: Config, runtime: Runtime | None = None) -> DashboardApp:
    return DashboardApp(config, runtime or Runtime(config))

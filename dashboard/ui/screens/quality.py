"""数据质量 Data quality (`z`): what in the loaded data to check before trusting it, one
row per finding (dashboard.core.quality), and the `[units.aliases]` lines to paste
into the config for unit names that look like variants. `Enter` opens the item."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Header, Static

from dashboard.core.quality import KINDS, Finding, QualityReport
from dashboard.runtime import Snapshot
from dashboard.ui.screens.base import DataScreen
from dashboard.ui.screens.detail import ItemDetailScreen
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.ui.widgets.table import Column, VirtualTable
from dashboard.views import TableView

# Colour by what a finding means for the figures: unknown or doubtful figures stand out.
KIND_CLASS = {
    "no_ratio": "status--lagging",
    "out_of_range": "status--lagging",
    "stale_update": "status--lagging",
    "unit_variant": "status--severe",
    "one_source": "status--unknown",
    "computed": "status--on_track",
    "text_progress": "status--on_track",
}
KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}


def _key(f: Finding) -> str:
    return f"{f.kind}:{f.item_id}:{f.unit}"


COLUMNS: list[Column[Finding]] = [
    Column("问题", lambda f: f.label, sort_key=lambda f: KIND_ORDER[f.kind], min_width=8, max_width=24),
    Column("序号", lambda f: f.item_id, min_width=4, max_width=8),
    Column("项目名称", lambda f: f.name, min_width=10, max_width=30, priority=2),
    Column("牵头单位", lambda f: f.unit, min_width=8, max_width=22),
    Column(
        "说明 detail",
        lambda f: f.detail + (f"（{'；'.join(f.warnings)}）" if f.warnings else ""),
        min_width=16,
        max_width=90,
        flex=True,
    ),
    Column("建议", lambda f: f.suggestion.replace("\n", "  "), min_width=8, max_width=40, priority=1),
]


class QualityScreen(DataScreen):
    """数据质量 Data quality: findings, worst kinds first, and the suggested alias table."""

    VIEW_TITLE = "数据质量 Data quality"

    def __init__(self) -> None:
        super().__init__()
        self.report: QualityReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.VIEW_TITLE, id="view-note", classes="view-note")
        yield Static(id="quality-aliases")
        yield StatusTable(
            COLUMNS,
            key_of=_key,
            row_class=lambda f: KIND_CLASS.get(f.kind, "status--on_track"),
            haystack=lambda f: " ".join(c.text(f) for c in COLUMNS),
            empty_text="（没有发现数据质量问题 no findings）",
            id="quality",
        )
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    @property
    def table(self) -> StatusTable[Finding]:
        return self.query_one("#quality", StatusTable)

    def on_mount(self) -> None:
        self.query_one("#quality-aliases", Static).display = False
        super().on_mount()
        self.table.focus()

    def show_snapshot(self, snap: Snapshot) -> None:
        self._find(snap)

    @work(thread=True, exclusive=True, group="quality")
    def _find(self, snap: Snapshot) -> None:
        """The findings in a worker thread: at 100,000 items they take most of a second."""
        from dashboard.data_quality import snapshot_quality

        report = snapshot_quality(snap, self.dash.config)
        self.app.call_from_thread(self._show_report, report)

    def _show_report(self, report: QualityReport) -> None:
        self.report = report
        self.table.set_rows(report.findings)
        counts = "  ".join(f"{KINDS[k]} {n}" for k, n in report.counts().items() if n)
        self.query_one("#view-note", Static).update(
            Text(f"{self.VIEW_TITLE}  共 {len(report.findings)} 条  {counts or '没有发现问题'}")
        )
        aliases = self.query_one("#quality-aliases", Static)
        table = report.alias_table()
        aliases.display = bool(table)
        if table:  # what to paste into dashboard.toml, as it is to be written (not markup)
            aliases.update(Text("建议写入配置 suggested for dashboard.toml:\n" + table.rstrip("\n")))

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        finding: Finding = event.row
        if finding.item_id:
            self.app.push_screen(ItemDetailScreen(finding.item_id))

    def export_view(self) -> TableView:
        from dashboard.data_quality import quality_view

        return quality_view(self.table.view_rows, self.VIEW_TITLE, self.notes())

"""变化 (issue 15, "Change digest"): what changed since the previous bulletin in history —
the bulletin's opening paragraph, then one row per item in each section (newly done,
worse, better, moved, behind N months in a row, new, vanished, units without a monthly
update), as `dashboard digest` prints them. `Enter` on an item opens its detail.

The digest (dashboard.digest_view.runtime_digest) reads history once per month: it is
made in a worker thread, again after each refresh."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Header, Static

from dashboard.core.digest import Change, Digest, Entry
from dashboard.core.items import Status
from dashboard.core.parse import format_percent
from dashboard.runtime import Snapshot
from dashboard.ui.screens.base import DataScreen
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.ui.widgets.table import Column, VirtualTable
from dashboard.views import TableView

NOTHING_CHANGED = "（两期之间没有变化 nothing changed）"
NOTHING_COMPARED = "（没有上一期通报可比较：先用 dashboard import 导入往期通报 no earlier bulletin）"


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One line of the table: an item in a section (`item_id` "" for a unit's line)."""

    section: str
    item_id: str
    unit: str
    name: str
    before: str
    after: str
    detail: str
    status: Status

    @property
    def key(self) -> str:
        return f"{self.section}:{self.item_id}:{self.unit}"


def _state(status: Status, ratio: float | None) -> str:
    return f"{status.label} {format_percent(ratio)}"


def change_rows(digest: Digest) -> list[ChangeRow]:
    """The sections in the order the bulletin reads them, each item once per section;
    the items whose ratio did not move come last."""
    rows: list[ChangeRow] = []

    def add(section: str, entries: Sequence[Change | Entry]) -> None:
        for e in entries:
            if isinstance(e, Change):
                detail = "" if e.ratio_moved else "比例未变"
                before, after = _state(e.old_status, e.old_ratio), _state(e.new_status, e.new_ratio)
                rows.append(ChangeRow(section, e.id, e.unit, e.name, before, after, detail, e.new_status))
            else:
                detail = f"连续{e.months}个月滞后" if e.months else ""
                after = _state(e.status, e.ratio)
                rows.append(ChangeRow(section, e.id, e.unit, e.name, "", after, detail, e.status))

    for section, entries in digest.item_sections(unmoved=True):
        add(section, entries)
    for u in digest.no_update:
        detail = f"{digest.update_month}月未更新动态：{'、'.join(u.items)}"
        rows.append(ChangeRow("未更新动态", "", u.unit, "", "", "", detail, Status.UNKNOWN))
    return rows


CHANGE_COLUMNS: list[Column[ChangeRow]] = [
    Column("变化", lambda r: r.section, min_width=8, max_width=10),
    Column("序号", lambda r: r.item_id, min_width=4, max_width=8),
    Column("牵头单位", lambda r: r.unit, min_width=8, max_width=18),
    Column("项目名称", lambda r: r.name, min_width=12, max_width=60, flex=True),
    Column("上期 before", lambda r: r.before, min_width=12, max_width=16, priority=1),
    Column("本期 after", lambda r: r.after, min_width=12, max_width=16),
    Column("说明", lambda r: r.detail, min_width=8, max_width=40, priority=2),
]


class ChangesScreen(DataScreen):
    """变化: the digest's paragraph and sections; follows refreshes."""

    VIEW_TITLE = "变化 Changes"
    # Here, not in dashboard.tcss: the paragraph wraps over a few lines, the table takes the rest.
    DEFAULT_CSS = """
    #changes-paragraph { height: auto; max-height: 12; padding: 0 1; }
    #changes { height: 1fr; }
    """
    digest: Digest | None = None

    @property
    def table(self) -> StatusTable[ChangeRow]:
        return self.query_one("#changes", StatusTable)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("载入中… loading", id="changes-paragraph")
        yield StatusTable(
            CHANGE_COLUMNS,
            key_of=lambda r: r.key,
            row_class=lambda r: f"status--{r.status.value}",
            haystack=lambda r: f"{r.section} {r.unit} {r.name}",
            empty_text="载入中… loading",
            id="changes",
        )
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()

    def show_snapshot(self, snap: Snapshot) -> None:
        self._load()

    @work(exclusive=True, group="changes")
    async def _load(self) -> None:
        from dashboard.digest_view import runtime_digest
        from dashboard.history import data_as_of

        runtime = self.dash.runtime
        look_back = getattr(self.dash, "look_back", None)
        try:
            # 历史回看: the digest of that day (from history), against the bulletin before it.
            own = data_as_of(runtime)  # the data's own date, not `--as-of`
            digest = await asyncio.to_thread(runtime_digest, runtime, until=look_back, own=own)
        except sqlite3.Error as exc:  # the store is down: say so here, the app runs on
            self.query_one("#changes-paragraph", Static).update(
                Text(f"（进度历史不可读 history unavailable: {exc}）", "bold yellow")
            )
            return
        self.digest = digest
        table = self.table
        # Nothing compared is not "nothing changed": the note above says what history lacks.
        table.empty_text = NOTHING_CHANGED if digest.compared else NOTHING_COMPARED
        table.set_rows(change_rows(digest))
        table.refresh()
        self.query_one("#changes-paragraph", Static).update(self._heading(digest))

    def _heading(self, digest: Digest) -> Text:
        since = (
            f"{digest.since:%Y-%m-%d}（序时 {format_percent(digest.since_expected, 0)}）"
            if digest.since
            else "—"
        )
        text = Text()
        text.append(f"变化 Changes  {since} → {digest.until:%Y-%m-%d}", "bold")
        text.append(f"（序时 {format_percent(digest.expected, 0)}）   ")
        text.append(f"比例未变的未完成项目 {len(digest.unmoved)} 个 not moved\n", "dim")
        text.append(digest.paragraph())
        for note in digest.notes:
            text.append(f"\n! {note}", "yellow")
        return text

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        row: ChangeRow = event.row
        if not row.item_id or row.section == "未更新动态":
            return
        from dashboard.ui.screens.detail import ItemDetailScreen

        self.app.push_screen(ItemDetailScreen(row.item_id))

    def export_view(self) -> TableView | None:
        from dashboard.digest_view import digest_view

        return None if self.digest is None else digest_view(self.digest, self.dash.config.title)

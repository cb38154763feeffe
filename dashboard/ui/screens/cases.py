"""督办案件 `k`: every case with its state, deadline, overdue mark and last note;
filters by state (1–3), overdue (4), text (`/`, e.g. a lead unit); Enter opens the case.
The list follows the data: a refresh that rectifies a case shows it here at once."""

from __future__ import annotations

import sqlite3
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Input, Static

from dashboard import casework
from dashboard.cases import CLOSED, OPEN, RECTIFIED
from dashboard.casework import CaseRow
from dashboard.runtime import Snapshot
from dashboard.ui.screens.base import DataScreen, describe_filter
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.ui.widgets.table import Column, VirtualTable, fit
from dashboard.views import TableView

OVERDUE = "逾期"
# Number keys, as on the alerts screen: one state, or the overdue cases; 0 shows all.
SHOW_KEYS = {"1": OPEN, "2": RECTIFIED, "3": CLOSED, "4": OVERDUE}
SHOW_IDS = {OPEN: "open", RECTIFIED: "rectified", CLOSED: "closed", OVERDUE: "overdue"}
STATE_RANK = {OPEN: 1, RECTIFIED: 2, CLOSED: 3}
ROW_CLASS = {OPEN: "status--on_track", RECTIFIED: "status--done", CLOSED: "status--unknown"}


def shows(row: CaseRow, wanted: str) -> bool:
    return row.case.overdue if wanted == OVERDUE else row.case.state == wanted


def case_order(row: CaseRow) -> tuple[int, int]:
    """Overdue first, then 督办中, 已整改, 已销号; the newest first in each."""
    rank = 0 if row.case.overdue else STATE_RANK.get(row.case.state, 9)
    return (rank, -row.case.id)


def case_counts(rows: list[CaseRow]) -> dict[str, int]:
    counts = {s: sum(r.case.state == s for r in rows) for s in (OPEN, RECTIFIED, CLOSED)}
    counts[OVERDUE] = sum(r.case.overdue for r in rows)
    return counts


def counts_text(counts: dict[str, int]) -> str:
    """`[1] 督办中 2 · [2] 已整改 1 · [3] 已销号 0 · [4] 逾期 1`."""
    return " · ".join(f"[{k}] {s} {counts.get(s, 0)}" for k, s in SHOW_KEYS.items())


class CasesTable(StatusTable[CaseRow]):
    """`#cases`: one row per case; the 逾期 cell in the error colour."""

    def __init__(self) -> None:
        columns: list[Column[CaseRow]] = [
            Column("编号", lambda r: f"#{r.case.id}", sort_key=lambda r: r.case.id, min_width=4, max_width=6),
            Column("状态", lambda r: r.case.state, min_width=6, max_width=6),
            Column(OVERDUE, lambda r: OVERDUE if r.case.overdue else "", min_width=4, max_width=4),
            Column("限期", lambda r: f"{r.case.deadline:%Y-%m-%d}", min_width=10, max_width=10),
            Column("项目", lambda r: f"[{r.case.item_id}] {r.case.item_name}", min_width=14, max_width=40),
            Column("牵头单位", lambda r: r.case.unit, min_width=8, max_width=16),
            Column("最新备注 last note", lambda r: r.last_note or "—", min_width=12, max_width=60, flex=True),
            Column(
                "立案 opened",
                lambda r: f"{r.case.author} {r.case.opened_at:%m-%d %H:%M}",
                sort_key=lambda r: r.case.opened_at.isoformat(),
                min_width=12,
                max_width=24,
                priority=2,
            ),
        ]
        super().__init__(
            columns,
            key_of=lambda r: r.key,
            row_class=lambda r: ROW_CLASS.get(r.case.state, "status--on_track"),
            haystack=lambda r: (
                f"{r.case.unit}\n{r.case.item_name}\n{r.case.item_id}\n#{r.case.id}".casefold()
            ),
            empty_text="（没有督办案件 no cases；在项目上按 c 立案）",
            id="cases",
        )
        self.columns[2].paint = self._paint_overdue

    def _paint_overdue(self, row: CaseRow, width: int, style: Style) -> list[Segment]:
        if not row.case.overdue:
            return [Segment(" " * width, style)]
        return [Segment(fit(OVERDUE, width), style + self.get_component_rich_style("status--severe"))]


class CasesScreen(DataScreen):
    """督办案件 Cases."""

    VIEW_TITLE = "督办案件 Cases"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "start_filter", "筛选", key_display="/", id="cases.filter"),
        *(
            Binding(k, f"show('{s}')", s, show=False, id=f"cases.show_{SHOW_IDS[s]}")
            for k, s in SHOW_KEYS.items()
        ),
        Binding("0", "show('')", "全部 All", show=False, id="cases.all"),
        Binding("escape", "escape", "清除筛选", show=False, id="cases.escape"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.showing = ""  # a state, 逾期, or "" for every case
        self.counts: dict[str, int] = {}
        self.problem = ""  # why the cases could not be read, if they could not

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="view-note", classes="view-note")
        yield Input(placeholder="筛选：牵头单位 / 项目 / 编号 (Enter 确定，Esc 清除)", id="filter")
        yield CasesTable()
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    @property
    def table(self) -> CasesTable:
        return self.query_one(CasesTable)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        super().on_mount()
        self.table.focus()
        self.reload_cases()

    # -- data: read in a worker thread (the store may be busy evaluating alerts) ----------
    def show_snapshot(self, snap: Snapshot) -> None:
        self.reload_cases()

    def show_counts(self, snap: Snapshot) -> None:
        self.reload_cases()  # back from a case's screen: its state may have changed

    def follow_alerts(self) -> None:
        """After the rules ran (the app calls it): a case may have been rectified or become overdue."""
        self.reload_cases()

    @work(thread=True, exclusive=True, group="cases", description="read the cases")
    def reload_cases(self) -> None:
        try:
            rows = casework.case_rows(self.dash.runtime)
        except sqlite3.Error as exc:  # a damaged store: say so, keep what is on screen
            self.app.call_from_thread(self._show_problem, f"督办案件不可读 cases unreadable: {exc}")
            return
        self.app.call_from_thread(self._show_rows, rows)

    def _show_rows(self, rows: list[CaseRow]) -> None:
        self.problem = ""
        self.table.set_rows(sorted(rows, key=case_order))
        self.counts = case_counts(rows)
        self._update_note()

    def _show_problem(self, text: str) -> None:
        self.problem = text
        self._update_note()

    def _update_note(self) -> None:
        wanted = [self.showing] if self.showing else []
        shown = f"显示 {self.table.row_count} / {len(self.table.rows)}"
        note = describe_filter(self.table.filter_text, wanted)
        text = f"{self.VIEW_TITLE}  {counts_text(self.counts)}   {shown}  {note}".rstrip()
        if self.problem:
            text = f"{self.VIEW_TITLE}  {self.problem}"
        self.query_one("#view-note", Static).update(Text(text))

    # -- filters ---------------------------------------------------------------------
    def action_show(self, what: str) -> None:
        self.showing = "" if what == self.showing else what
        wanted = self.showing
        self.table.set_filter(row_filter=(lambda r: shows(r, wanted)) if wanted else None)
        self._update_note()

    def action_start_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.table.set_filter(event.value)
            self._update_note()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value.strip():
                event.input.display = False
            self.table.focus()

    def action_escape(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.showing = ""
        self.table.set_filter("", row_filter=None)
        self.table.focus()
        self._update_note()

    # -- drill-down and export --------------------------------------------------------
    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        from dashboard.ui.screens.case_detail import CaseDetailScreen

        event.stop()
        self.app.push_screen(CaseDetailScreen(event.row.case.id))

    def export_view(self) -> TableView:
        from dashboard.views import cases_view

        note = describe_filter(self.table.filter_text, [self.showing] if self.showing else [])
        rows: list[Any] = [r.case for r in self.table.view_rows]
        return cases_view(rows, self.VIEW_TITLE, self.notes(note))

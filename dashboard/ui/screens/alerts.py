"""Alerts: open, acknowledged, silenced and resolved; acknowledge (`a`) and
silence (`m`, for a week) from the keyboard, without a dialog."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Static

from dashboard.core.alert_rules import rule_label
from dashboard.core.alerts import SEVERITY_LABELS
from dashboard.runtime import Snapshot
from dashboard.ui.screens.base import DataScreen, describe_filter
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.ui.widgets.table import Column, VirtualTable
from dashboard.views import TableView

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
STATES = {"open": "未处理", "acknowledged": "已确认", "silenced": "已静默", "resolved": "已解除"}
STATE_KEYS = {"1": "open", "2": "acknowledged", "3": "silenced", "4": "resolved"}
STATE_RANK = {s: i for i, s in enumerate(STATES)}
SILENCE_DAYS = 7


def _when(value: Any) -> str:
    return (
        f"{value:%m-%d %H:%M}"
        if hasattr(value, "strftime") and hasattr(value, "hour")
        else (f"{value:%Y-%m-%d}" if hasattr(value, "strftime") else "—")
    )


def shown_state(record: Any, today: date | None = None) -> str:
    """The one state an alert is in: a silence that ran out reads as open (as
    `dashboard alerts --state` counts it), and an acknowledged alert is not also silenced."""
    effective = getattr(record, "effective_state", None)
    return str(effective(today or date.today())) if callable(effective) else str(record.state)


def silenced_until_text(record: Any) -> str:
    """静默至 only for an alert that is silenced now (`m` then `a` leaves it acknowledged)."""
    return _when(record.silenced_until) if shown_state(record) == "silenced" else "—"


def alert_order(record: Any, today: date | None = None) -> tuple[int, int]:
    """Open first, then acknowledged, silenced, resolved; critical before warning in each."""
    return (STATE_RANK.get(shown_state(record, today), 9), SEVERITY_RANK.get(str(record.severity), 9))


def alert_class(record: Any) -> str:
    from dashboard.views import alert_status

    status = alert_status(record)
    return f"status--{status.value}" if status is not None else "status--on_track"


ALERT_COLUMNS: list[Column[Any]] = [
    Column(
        "状态",
        lambda r: STATES.get(shown_state(r), shown_state(r)),
        sort_key=alert_order,
        min_width=6,
        max_width=6,
    ),
    Column(
        "级别",
        lambda r: SEVERITY_LABELS.get(str(r.severity), str(r.severity)),
        sort_key=lambda r: SEVERITY_RANK.get(str(r.severity), 9),
        min_width=4,
        max_width=8,
        priority=3,
    ),
    Column("规则", lambda r: rule_label(str(r.rule)), min_width=8, max_width=16, priority=2),
    Column("项目名称", lambda r: str(r.item_name), min_width=12, max_width=40, priority=1),
    Column("牵头单位", lambda r: str(r.unit), min_width=8, max_width=16, priority=1),
    Column("内容 message", lambda r: str(r.message), min_width=16, max_width=90, flex=True),
    Column("首次触发", lambda r: _when(r.first_fired), min_width=11, max_width=11, priority=2),
    Column("静默至", silenced_until_text, min_width=10, max_width=10, priority=4),
]


class AlertsScreen(DataScreen):
    """预警 Alerts."""

    VIEW_TITLE = "预警 Alerts"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge", "确认", id="alerts.acknowledge"),
        Binding("m", "silence", f"静默{SILENCE_DAYS}天", id="alerts.silence"),
        *(
            Binding(k, f"state_filter('{s}')", STATES[s], show=False, id=f"alerts.show_{s}")
            for k, s in STATE_KEYS.items()
        ),
        Binding("0", "state_filter('')", "全部 All", show=False, id="alerts.all"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state_filter: str = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="view-note", classes="view-note")
        yield StatusTable(
            ALERT_COLUMNS,
            key_of=lambda r: str(r.key),
            row_class=alert_class,
            empty_text="（没有预警 no alerts）",
            id="alerts",
        )
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    @property
    def table(self) -> StatusTable[Any]:
        return self.query_one("#alerts", StatusTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()

    def show_snapshot(self, snap: Snapshot) -> None:
        self.reload_records()

    def reload_records(self) -> None:
        self.dash.update_alert_count()
        # Today as the runtime's `alert_records(states)` counts it (the wall clock, not the app's).
        records = sorted(self.dash.alert_records(), key=alert_order)
        self.table.set_rows(records)
        self._update_note()
        if self.dash.snapshot is not None:
            self.show_status(self.dash.snapshot)

    def _update_note(self) -> None:
        counts: dict[str, int] = {}
        for r in self.table.rows:
            state = shown_state(r)
            counts[state] = counts.get(state, 0) + 1
        summary = "  ".join(f"[{k}] {STATES[s]} {counts.get(s, 0)}" for k, s in STATE_KEYS.items())
        shown = describe_filter("", [STATES[self.state_filter]] if self.state_filter else [])
        if not self.dash.alerts_supported():
            summary = "预警功能尚未安装 alerts not available"
        self.query_one("#view-note", Static).update(Text(f"{self.VIEW_TITLE}  {summary}  {shown}"))

    def action_state_filter(self, state: str) -> None:
        self.state_filter = "" if state == self.state_filter else state
        wanted = self.state_filter
        self.table.set_filter(row_filter=(lambda r: shown_state(r) == wanted) if wanted else None)
        self._update_note()

    def action_acknowledge(self) -> None:
        record = self.table.cursor_value
        if record is None:
            return
        if self.dash.acknowledge(str(record.key)):
            self.notify(f"已确认 acknowledged: {record.message}", markup=False)
        self.reload_records()

    def action_silence(self) -> None:
        record = self.table.cursor_value
        if record is None:
            return
        until = self.dash.now().date() + timedelta(days=SILENCE_DAYS)
        if self.dash.silence(str(record.key), until):
            self.notify(f"已静默至 {until:%Y-%m-%d}: {record.message}", markup=False)
        self.reload_records()

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        from dashboard.ui.screens.detail import ItemDetailScreen

        event.stop()
        item_id = str(getattr(event.row, "item_id", "") or "")
        if item_id:
            self.app.push_screen(ItemDetailScreen(item_id))

    def export_view(self) -> TableView:
        from dashboard.views import alerts_view

        note = describe_filter("", [STATES[self.state_filter]] if self.state_filter else [])
        return alerts_view(self.table.view_rows, self.VIEW_TITLE, self.notes(note))

"""Alerts: open, acknowledged, silenced and resolved, each with its ladder level
(提醒 / 预警 / 督办). `a` acknowledges with who and an optional comment, `m` silences
the alert or every alert like it (a silence by matcher, with who and why), `M` lists
the silences. The kiosk opens no dialog: `a` there acknowledges with the defaults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Static

from dashboard.core.alert_rules import rule_label
from dashboard.core.alerts import LEVEL_LABELS, LEVELS, SEVERITY_LABELS
from dashboard.runtime import Snapshot
from dashboard.ui.screens.base import DataScreen, describe_filter
from dashboard.ui.widgets.columns import fit
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.ui.widgets.table import Column, VirtualTable
from dashboard.views import TableView

if TYPE_CHECKING:
    from dashboard.ui.screens.silence_dialog import SilenceRequest

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
STATES = {"open": "未处理", "acknowledged": "已确认", "silenced": "已静默", "resolved": "已解除"}
STATE_KEYS = {"1": "open", "2": "acknowledged", "3": "silenced", "4": "resolved"}
STATE_RANK = {s: i for i, s in enumerate(STATES)}


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


LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}


def level_text(record: Any) -> str:
    return str(getattr(record, "level_label", "") or "—")


def alert_columns(
    held_by: Callable[[Any], Any] = lambda r: None,
    supervise_style: Callable[[], Style] = lambda: Style(bold=True),
) -> list[Column[Any]]:
    """The alerts table's columns. `held_by(record)` is the silence by matcher holding the
    alert's events back (None: none); `supervise_style()` paints 督办 (the theme's error)."""

    def paint_level(record: Any, width: int, style: Style) -> list[Segment]:
        text = fit(level_text(record), width)
        return [Segment(text, style + supervise_style() if record.level_name == "supervise" else style)]

    def until(record: Any) -> str:
        held = held_by(record)
        return f"{held.until:%Y-%m-%d}" if held is not None else silenced_until_text(record)

    def who(record: Any) -> str:
        held = held_by(record)
        if held is not None:
            return f"{held.author} #{held.id}"
        state = shown_state(record)
        return str(record.acknowledged_by or "—") if state in ("acknowledged", "silenced") else "—"

    return [
        Column(
            "状态",
            lambda r: STATES.get(shown_state(r), shown_state(r)),
            sort_key=alert_order,
            min_width=6,
            max_width=6,
        ),
        Column(
            "级别",
            level_text,
            sort_key=lambda r: LEVEL_RANK.get(str(r.level_name), 9),
            min_width=4,
            max_width=4,
            paint=paint_level,
        ),
        Column("规则", lambda r: rule_label(str(r.rule)), min_width=8, max_width=16, priority=2),
        Column("项目名称", lambda r: str(r.item_name), min_width=12, max_width=40, priority=1),
        Column("牵头单位", lambda r: str(r.unit), min_width=8, max_width=16, priority=1),
        Column(
            "严重度",
            lambda r: SEVERITY_LABELS.get(str(r.severity), str(r.severity)),
            sort_key=lambda r: SEVERITY_RANK.get(str(r.severity), 9),
            min_width=6,
            max_width=8,
            priority=3,
        ),
        Column("内容 message", lambda r: str(r.message), min_width=16, max_width=90, flex=True),
        Column("首次触发", lambda r: _when(r.first_fired), min_width=11, max_width=11, priority=2),
        Column("静默至", until, min_width=10, max_width=10, priority=4),
        Column("确认/静默人", who, min_width=10, max_width=16, priority=4),
    ]


# The labels and order, for the tests and for anyone reading cells by label.
ALERT_COLUMNS: list[Column[Any]] = alert_columns()


class AlertsScreen(DataScreen):
    """预警 Alerts."""

    VIEW_TITLE = "预警 Alerts"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "acknowledge", "确认", id="alerts.acknowledge"),
        Binding("m", "silence", "静默…", id="alerts.silence"),
        Binding("M", "silences", "静默列表", show=False, id="alerts.silences"),
        *(
            Binding(k, f"state_filter('{s}')", STATES[s], show=False, id=f"alerts.show_{s}")
            for k, s in STATE_KEYS.items()
        ),
        Binding("0", "state_filter('')", "全部 All", show=False, id="alerts.all"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state_filter: str = ""
        self.held: dict[str, Any] = {}  # alert key → the active silence by matcher holding it

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="view-note", classes="view-note")
        yield StatusTable(
            alert_columns(lambda r: self.held.get(str(r.key)), self.supervise_style),
            key_of=lambda r: str(r.key),
            row_class=alert_class,
            empty_text="（没有预警 no alerts）",
            id="alerts",
        )
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    def supervise_style(self) -> Style:
        error = self.app.current_theme.error
        return Style(color=error, bold=True) if error else Style(bold=True)

    @property
    def table(self) -> StatusTable[Any]:
        return self.query_one("#alerts", StatusTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()

    def show_snapshot(self, snap: Snapshot) -> None:
        self.reload_records()

    def on_screen_resume(self) -> None:
        # Back from the silences list: an expired silence shows at once. (DataScreen's own
        # handler runs after this one and redraws a snapshot that came meanwhile.)
        if self._pending is None and self.dash.snapshot is not None:
            self.reload_records()

    def reload_records(self) -> None:
        self.dash.update_alert_count()
        # Today as the runtime's `alert_records(states)` counts it (the wall clock, not the app's).
        records = sorted(self.dash.alert_records(), key=alert_order)
        self.held = self._held(records)
        self.table.set_rows(records)
        self._update_note()
        if self.dash.snapshot is not None:
            self.show_status(self.dash.snapshot)

    def _held(self, records: list[Any]) -> dict[str, Any]:
        """Each unresolved alert's active silence by matcher, on the calendar as the engine
        decides it (not the data's date)."""
        from dashboard.alert_store import matching_silence
        from dashboard.alerting import now_local

        now = now_local()
        active = [x for x in self.dash.silences() if x.active(now)]
        if not active:
            return {}
        return {
            str(r.key): m
            for r in records
            if shown_state(r) != "resolved"
            and (m := matching_silence(active, r.rule, r.unit, r.item_id, r.level_name))
        }

    def _update_note(self) -> None:
        counts: dict[str, int] = {}
        levels: dict[str, int] = {}
        for r in self.table.rows:
            state = shown_state(r)
            counts[state] = counts.get(state, 0) + 1
            if state != "resolved":
                levels[str(r.level_name)] = levels.get(str(r.level_name), 0) + 1
        summary = "  ".join(f"[{k}] {STATES[s]} {counts.get(s, 0)}" for k, s in STATE_KEYS.items())
        summary += "   未解除 " + " ".join(f"{LEVEL_LABELS[n]} {levels.get(n, 0)}" for n in LEVELS)
        if self.held:
            summary += f"   静默中 {len(self.held)} 条（M 静默列表）"
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
        if self.dash.kiosk:  # the wall screen opens no dialog: the defaults
            self._acknowledge(record, (self.dash.author(), ""))
            return
        from dashboard.ui.screens.ack_dialog import AckDialog

        self.app.push_screen(AckDialog(record, self.dash.author()), partial(self._acknowledge, record))

    def _acknowledge(self, record: Any, answer: tuple[str, str] | None) -> None:
        if answer is None:
            return
        by, comment = answer
        if self.dash.acknowledge(str(record.key), by=by, comment=comment):
            self.notify(f"已确认 acknowledged（{by}）: {record.message}", markup=False)
        self.reload_records()

    def action_silence(self) -> None:
        record = self.table.cursor_value
        if record is None:
            return
        if self.dash.kiosk:
            self.notify(
                "轮播中不弹对话框：按 k 停止轮播后再静默 stop the rotation (k) to silence", markup=False
            )
            return
        from dashboard.ui.screens.silence_dialog import SilenceDialog

        dialog = SilenceDialog(record, self.dash.author(), self.dash.now().date())
        self.app.push_screen(dialog, partial(self._silence, record))

    def _silence(self, record: Any, request: SilenceRequest | None) -> None:
        if request is None:
            return
        until = f"{request.until:%Y-%m-%d}"
        if request.key:
            done = self.dash.silence(request.key, request.until, by=request.by, comment=request.comment)
            if done:
                self.notify(f"已静默至 {until}（{request.by}）: {record.message}", markup=False)
        else:
            silence = self.dash.add_silence(
                request.matchers, request.until, by=request.by, comment=request.comment
            )
            matched = sum(
                silence.matches(r.rule, r.unit, r.item_id, r.level_name)
                for r in self.table.rows
                if shown_state(r) != "resolved"
            )
            where = " ".join(f"{k}={v}" for k, v in silence.matchers.items())
            self.notify(f"已建静默 #{silence.id}，至 {until}：{where}（{matched} 条预警）", markup=False)
        self.reload_records()

    def action_silences(self) -> None:
        from dashboard.ui.screens.silences import SilencesScreen

        self.app.push_screen(SilencesScreen())

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

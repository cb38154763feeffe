"""`M` from the alerts screen: every silence by matcher (expired ones too: they are part
of the record), with its matcher, until, author, comment and state; `x` ends the one
under the cursor early (in the trail, with who), `e` exports them as `dashboard export
--view silences` does."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Static

from dashboard.ui.screens.base import DataScreen
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.ui.widgets.table import Column
from dashboard.views import TableView

SILENCE_STATES = {"active": "生效", "expired": "已结束", "over": "已过期", "pending": "未生效"}
STATE_CLASS = {"active": "status--lagging", "pending": "status--on_track"}


def silence_state(silence: Any, now: datetime) -> str:
    """active, expired (ended early), over (past its until) or pending (not begun)."""
    if silence.active(now):
        return "active"
    if silence.expired_at is not None:
        return "expired"
    return "over" if now.date() > silence.until else "pending"


def _matchers(silence: Any) -> str:
    return " ".join(f"{k}={v}" for k, v in dict(silence.matchers).items())


def _when(value: Any) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"


def silence_columns(now: Any) -> list[Column[Any]]:
    """`now()` is the calendar time a silence is judged at (the engine's)."""
    return [
        Column("编号", lambda s: f"#{s.id}", sort_key=lambda s: int(s.id), min_width=4, max_width=6),
        Column("状态", lambda s: SILENCE_STATES[silence_state(s, now())], min_width=6, max_width=6),
        Column("条件 matcher", _matchers, min_width=14, max_width=48),
        Column("静默至", lambda s: f"{s.until:%Y-%m-%d}", min_width=10, max_width=10),
        Column("静默人", lambda s: str(s.author), min_width=6, max_width=16),
        Column("原因 why", lambda s: str(s.comment), min_width=12, max_width=60, flex=True),
        Column("开始", lambda s: _when(s.starts_at), min_width=16, max_width=16, priority=2),
        Column("结束于", lambda s: _when(s.expired_at), min_width=16, max_width=16, priority=3),
    ]


class SilencesScreen(DataScreen):
    """静默 Silences."""

    VIEW_TITLE = "静默 Silences"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "expire", "提前结束", id="silences.expire"),
        Binding("escape", "back", "返回", id="silences.back"),
        # Read-only: `x` answers with the app's notice instead (never shown, not in the palette).
        Binding("x", "refused('结束静默')", "结束静默", show=False, id="app.read_only_expire"),
    ]

    def compose(self) -> ComposeResult:
        from dashboard.alerting import now_local

        yield Header()
        yield Static(id="view-note", classes="view-note")
        yield StatusTable(
            silence_columns(now_local),
            key_of=lambda s: str(s.id),
            row_class=lambda s: STATE_CLASS.get(silence_state(s, now_local()), "status--unknown"),
            empty_text="（没有静默 no silences：在预警页按 m 新建）",
            id="silences",
        )
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    @property
    def table(self) -> StatusTable[Any]:
        return self.query_one("#silences", StatusTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: `x` is the refusal, not the expiry (as on the case screens).
        if action == "expire":
            return not self.dash.read_only
        if action == "refused":
            return self.dash.read_only
        return super().check_action(action, parameters)

    def action_refused(self, what: str) -> None:
        self.dash.action_refused(what)

    def show_snapshot(self, snap: Any) -> None:
        self.reload()

    def reload(self) -> None:
        from dashboard.alerting import now_local

        silences = list(reversed(self.dash.silences()))  # newest first
        self.table.set_rows(silences)
        now = now_local()
        active = sum(silence_state(s, now) == "active" for s in silences)
        note = f"{self.VIEW_TITLE}  共 {len(silences)} 条，生效 {active} 条   x 提前结束  e 导出  Esc 返回"
        self.query_one("#view-note", Static).update(Text(note))

    def action_expire(self) -> None:
        from dashboard.alerting import now_local

        silence = self.table.cursor_value
        if silence is None:
            return
        if silence_state(silence, now_local()) != "active":
            self.notify(f"静默 #{silence.id} 已不在生效中 not active", severity="warning", markup=False)
            return
        by = self.dash.author()
        if self.dash.expire_silence(int(silence.id), by=by) is not None:
            self.notify(f"静默 #{silence.id} 已提前结束（{by}）expired: {_matchers(silence)}", markup=False)
        self.reload()

    def action_back(self) -> None:
        self.dismiss()

    def export_view(self) -> TableView:
        from dashboard.views import silences_view

        return silences_view(self.table.view_rows, "静默", self.notes())

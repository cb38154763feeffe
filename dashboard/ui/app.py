"""The Textual app. `make_app` is the one factory the CLI and the tests both use.

Each top-level view is a mode with its own screen stack (overview, lead units,
behind, projects, sources, alerts), so a drill-down in one view is still there
when you come back to it. New data reaches every screen through `show()`.
"""

from __future__ import annotations

import asyncio
import importlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer

from dashboard.config import Config
from dashboard.contracts import ConfigError
from dashboard.history import HISTORY_LABEL, looks_back, past_snapshot
from dashboard.runtime import Runtime, Snapshot, SourceState
from dashboard.scheduler import Scheduler
from dashboard.ui.keys import NOT_COMMANDS, command_title
from dashboard.ui.kiosk import KioskRotation
from dashboard.ui.screens.base import BANNER_MARK, DataScreen
from dashboard.ui.screens.items import BehindScreen, ItemsScreen, OverviewScreen
from dashboard.ui.theme import ALIASES, DARK, LIGHT, THEMES
from dashboard.ui.widgets.headline import Headline
from dashboard.ui.widgets.status_bar import StatusBar, loading_text
from dashboard.ui.widgets.table import VirtualTable

# Keys that change something, and what the read-only screen says when they are pressed.
READ_ONLY_KEYS = (
    ("a", "ack", "确认预警"),
    ("m", "silence", "静默预警"),
    ("e", "export", "导出"),
    ("E", "export_as", "导出"),
    ("c", "open_case", "立案督办"),
    ("q", "quit", "退出"),
)


def _view(module: str, name: str) -> Callable[[], Screen[Any]]:
    """A view's screen, its module imported when the view is first shown: the first
    frame pays only for the overview's (issue 17)."""

    def make() -> Screen[Any]:
        screen: Screen[Any] = getattr(importlib.import_module(f"dashboard.ui.screens.{module}"), name)()
        return screen

    return make


# How long the header shows the newest alerts (the alerts screen `w` keeps them all).
ALERT_BANNER_SECONDS = 600.0


class DashboardApp(App[None]):
    CSS_PATH = Path(__file__).with_name("dashboard.tcss")
    TITLE = "专班看板"
    MODES: ClassVar[dict[str, Any]] = {
        "overview": OverviewScreen,
        "units": _view("units", "UnitsScreen"),
        "behind": BehindScreen,
        "projects": _view("units", "ProjectsScreen"),
        "sources": _view("sources", "SourcesScreen"),
        "alerts": _view("alerts", "AlertsScreen"),
        "quality": _view("quality", "QualityScreen"),
        "cases": _view("cases", "CasesScreen"),
        "changes": _view("changes", "ChangesScreen"),
    }
    DEFAULT_MODE = "overview"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "switch_mode('overview')", "总览", id="app.overview"),
        Binding("u", "switch_mode('units')", "单位", id="app.units"),
        Binding("b", "switch_mode('behind')", "滞后", show=False, id="app.behind"),
        Binding("p", "switch_mode('projects')", "项目", show=False, id="app.projects"),
        Binding("d", "switch_mode('sources')", "数据源", id="app.sources"),
        Binding("w", "switch_mode('alerts')", "预警", id="app.alerts"),
        Binding("z", "switch_mode('quality')", "数据质量", show=False, id="app.quality"),
        Binding("r", "reload", "刷新", id="app.reload"),
        Binding("question_mark", "help", "全部按键", key_display="?", id="app.help"),
        Binding("t", "toggle_dark", "明暗主题", show=False, id="app.theme"),
        Binding("k", "switch_mode('cases')", "督办", show=False, id="app.cases"),
        Binding("v", "switch_mode('changes')", "变化", show=False, id="app.changes"),
        Binding("K", "toggle_kiosk", "轮播模式", show=False, id="app.kiosk"),
        # Two quits, one shown at a time: `q`, or only Ctrl+Q on a read-only screen.
        Binding("q", "leave('q')", "退出", id="app.quit"),
        Binding("ctrl+q", "leave('ctrl+q')", "退出", key_display="Ctrl+Q", priority=True, id="app.ctrl_quit"),
        # Textual's own palette binding, named in Chinese (the footer shows `^p 命令`).
        Binding("ctrl+p", "command_palette", "命令", show=False, priority=True, id="app.palette"),
        # Read-only: what the keys that would change something say instead (never shown).
        *(
            Binding(key, f"refused('{what}')", what, show=False, id=f"app.read_only_{name}")
            for key, name, what in READ_ONLY_KEYS
        ),
    ]

    # The latest snapshot; every screen watches it and updates in place.
    # A `var`: no repaint of the whole screen per refresh, each screen repaints what changed.
    snapshot: var[Snapshot | None] = var(None, always_update=True)

    def __init__(
        self,
        config: Config,
        runtime: Runtime,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.runtime = runtime
        self.now: Callable[[], datetime] = clock or datetime.now
        self.kiosk = config.ui.kiosk
        # `--as-of` a date within history (issue 15): that day's items from history, labelled
        # 历史回看; nothing evaluated, delivered or recorded, and no alert or case changed.
        self.look_back = look_back_day(runtime)
        if self.look_back is not None:
            runtime.record_history = False  # history is by the data's as-of date, not this one
        # Fixed at start: turning the rotation off (`K`) does not unlock the wall screen.
        self.wall = config.ui.is_read_only()  # only Ctrl+Q quits
        self.read_only = self.wall or self.look_back is not None
        self.rotation = KioskRotation()
        self.refreshed_at: datetime | None = None
        self.open_alerts: int | None = None  # as of the last `show`
        self._kiosk_timer: Timer | None = None
        # (text, is an error, shown until time.monotonic()) in the status bars: `r`'s progress.
        self.status_note: tuple[str, bool, float] | None = None
        self._loading_timer: Timer | None = None
        self._empty_texts: dict[VirtualTable[Any], str] = {}  # tables showing `载入中…`, their own text
        self.alert_banner = ""  # the newest alerts, after the view's title (see `announce`)
        self._banner_timer: Timer | None = None
        # Each source refreshes on its own timer and when its file changes.
        self.scheduler = Scheduler(runtime, on_refresh=self._source_refreshed)
        self._render_lock = asyncio.Lock()  # one snapshot at a time
        self._render_queued = False
        self._renders_queued = 0  # renders queued by refreshed sources, ever
        # The newest snapshot whose alerts are still to be evaluated, and whether a
        # render is evaluating alerts now (the next one then leaves its snapshot here).
        self._alerts_wanted: Snapshot | None = None
        self._alerts_running = False
        # New data first: the store writes of a fetch wait until it is on screen.
        runtime.hold_writes_until_shown()
        self.base_title = config.title
        if self.look_back is not None:
            self.base_title += f"   {HISTORY_LABEL} {self.look_back:%Y-%m-%d}"
        self.title = self.base_title
        self._kiosk_label = ""
        self._resume_timer: Timer | None = None
        for theme in THEMES:
            self.register_theme(theme)
        wanted = ALIASES.get(config.ui.theme, config.ui.theme)
        self.theme = wanted if wanted in self.available_themes else DARK.name

    def on_mount(self) -> None:
        if self.kiosk:
            self._start_kiosk()
        if any(s.items for s in self.runtime.states.values()):
            self.show(self.take_snapshot())  # the last good data from the store, at once
        else:
            self._loading_timer = self.set_interval(0.5, self._show_loading)
            self.call_after_refresh(self._show_loading)
        self.reload()

    async def on_unmount(self) -> None:
        await self.scheduler.stop()
        await self.runtime.flush()  # what was fetched is in the store before we go

    # -- data -------------------------------------------------------------------
    def action_reload(self) -> None:
        self.reload(announce=True)

    @work(exclusive=True, group="refresh")
    async def reload(self, announce: bool = False) -> None:
        """Refresh every source now (the first load, and `r`), then show the result.
        With `announce` (`r`), the status bar says it is refreshing, then how it went."""
        if announce:
            self.say(f"正在刷新 {len(self.runtime.states)} 个数据源 refreshing")
        if not self.scheduler.running:
            await self.scheduler.start(initial=False)
        queued = self._renders_queued
        states = await self.scheduler.refresh_now()
        if self._renders_queued == queued:  # else a refreshed source has queued a render already
            await self._render()
        if announce:
            failed = [s for s in states if s.ok is False]
            if failed:
                self.say("刷新失败 " + "；".join(f"{s.name}: {s.error}" for s in failed), error=True)
            else:
                self.say(f"已刷新 {len(states)} 个数据源 refreshed")

    def say(self, text: str, *, error: bool = False, seconds: float = 8.0) -> None:
        """A short message in every status bar (not a toast: Textual keeps each toast's
        widgets alive after it expires, and `r` may be pressed all day)."""
        self.status_note = (text, error, time.monotonic() + seconds)
        for bar in self.screen.query(StatusBar):
            bar.tick()

    def _show_loading(self) -> None:
        """Until the first data arrives: `载入中…` with each source's name and elapsed
        time on the headline and in the empty tables, instead of `–` and `没有…`."""
        if self.snapshot is not None:
            if self._loading_timer is not None:
                self._loading_timer.stop()
                self._loading_timer = None
            for table, text in self._empty_texts.items():
                table.empty_text = text
                table.refresh()
            self._empty_texts.clear()
            return
        text = loading_text(self.runtime.fetching(), list(self.runtime.states))
        for headline in self.screen.query(Headline):
            headline.show_loading(text)
        for table in self.screen.query(VirtualTable):
            self._empty_texts.setdefault(table, table.empty_text)
            if table.empty_text != text:
                table.empty_text = text
                table.refresh()

    def _source_refreshed(self, state: SourceState) -> None:
        """Called by the scheduler after each source's refresh: re-render once, even
        when several sources finish together."""
        if self._render_queued or not self.is_running:
            return
        self._render_queued = True
        self._renders_queued += 1
        self.run_worker(self._render(), group="render")

    async def _render(self) -> None:
        async with self._render_lock:
            self._render_queued = False
            try:
                snap = await asyncio.to_thread(self.take_snapshot)
                self.show(snap)  # the data first; the alert rules need the store written
            except ConfigError as exc:  # found in the data: a year the working-day calendar lacks
                self.say(f"配置错误 {exc.key}: {exc.message}（{exc.expected}）", error=True, seconds=86400)
                return
            finally:
                self.runtime.writes_may_start()  # whatever happened, the fetched data gets stored
        if self.look_back is not None:
            return  # a look back evaluates no alert rules and delivers nothing
        # The alert rules of the newest snapshot, one evaluation at a time; a refresh that
        # arrives meanwhile is shown at once, and its alerts are evaluated next.
        self._alerts_wanted = snap
        if self._alerts_running:
            return
        self._alerts_running = True
        try:
            while self._alerts_wanted is not None:
                snap, self._alerts_wanted = self._alerts_wanted, None
                await self.runtime.flush()
                await asyncio.to_thread(self.runtime.evaluate_alerts, snap)
                self.alerts_evaluated(snap)
        finally:
            self._alerts_running = False

    def take_snapshot(self) -> Snapshot:
        """Today's snapshot, or in a look back the items as they stood on that day."""
        if self.look_back is not None:
            found = past_snapshot(self.runtime, self.look_back)
            if found is not None:
                return found[0]
        return self.runtime.snapshot()

    def show(self, snap: Snapshot) -> None:
        """The one way new data reaches the UI: every screen updates in place."""
        self.refreshed_at = self.now()
        self.update_alert_count()
        self.snapshot = snap
        if self._loading_timer is not None:
            self._show_loading()  # the first data: `载入中…` goes at once
        self.announce(snap)

    def alerts_evaluated(self, snap: Snapshot) -> None:
        """After the rules ran on `snap`: new counts, and the alert screens redrawn only
        when something fired or resolved (a full redraw costs a 100,000-row refresh)."""
        before = self.open_alerts
        self.update_alert_count()
        changed = bool(snap.fired or snap.resolved)
        shown = self.snapshot  # `snap`, or newer data already on screen (kept)
        if changed and snap is shown:
            self.snapshot = snap
        elif (changed or self.open_alerts != before) and isinstance(self.screen, DataScreen) and shown:
            self.screen.show_counts(shown)
            self.screen.show_status(shown)
        if changed:
            self.announce(snap)
        follow = getattr(self.screen, "follow_alerts", None)
        if callable(follow):  # the case screens: the rules may have rectified a case
            follow()

    def announce(self, snap: Snapshot) -> None:
        """A bell and a line in the header of every data screen for the alerts that fired
        with this snapshot. Not a toast: each toast mounts widgets that Textual (8.2) keeps
        alive after they expire (~48 KB a toast, a leak of 66.7 → 109.5 MB in 15 minutes with an
        alert per refresh, issue 12); the header line is one text updated in place, and an
        office screen nobody watched for ten seconds still shows it."""
        fired = list(snap.fired or [])
        if fired:
            self.bell()
            first = getattr(fired[0], "message", "")
            more = f" 等 {len(fired)} 条" if len(fired) > 1 else ""
            self.set_alert_banner(f"新预警 {self.now():%H:%M}：{first}{more}")

    def set_alert_banner(self, text: str) -> None:
        """Show `text` (or nothing) after the view's title; it goes after ALERT_BANNER_SECONDS."""
        self.alert_banner = text
        if self._banner_timer is not None:
            self._banner_timer.stop()
        self._banner_timer = self.set_timer(ALERT_BANNER_SECONDS, self._banner_expired) if text else None
        for screen in self.screen_stack:
            if isinstance(screen, DataScreen):
                screen.show_title()

    def _banner_expired(self) -> None:
        self._banner_timer = None
        self.set_alert_banner("")

    def clear_notifications(self) -> None:
        """Clear the toasts and the new-alert line."""
        super().clear_notifications()
        if self.alert_banner:
            self.set_alert_banner("")

    def format_title(self, title: str, sub_title: str) -> Content:
        # The new-alert part of the header stands out; the view's name stays dim.
        view, mark, banner = sub_title.partition(BANNER_MARK)
        content = super().format_title(title, view)
        return Content.assemble(content, (mark, "bold"), (banner, "bold")) if mark else content

    def refreshed_text(self, snap: Snapshot | None = None) -> str:
        """`更新于`: when the newest good data arrived (not the last attempt, which may have failed)."""
        states = snap.sources if snap is not None else self.runtime.states.values()
        times = [s.last_success for s in states if s.last_success is not None]
        return f"{max(times):%Y-%m-%d %H:%M:%S}" if times else "—"

    # -- alerts (the runtime's alert engine may be absent: then there are none) ----
    def alerts_supported(self) -> bool:
        return hasattr(self.runtime, "alert_records")

    def alert_records(self, states: Iterable[str] | None = None, item_id: str | None = None) -> list[Any]:
        records = getattr(self.runtime, "alert_records", None)
        return list(records(states, item_id=item_id)) if records else []

    def update_alert_count(self) -> None:
        """Read the open-alert count once (the header and every screen show it)."""
        self.open_alerts = self.open_alert_count()
        self.sub_title = f"未处理预警 {self.open_alerts}" if self.open_alerts else ""

    def open_alert_count(self) -> int | None:
        count = getattr(self.runtime, "open_alert_count", None)
        return int(count()) if count else None

    def sink_status(self) -> list[Any]:
        status = getattr(self.runtime, "sink_status", None)
        return list(status()) if status else []

    def acknowledge(self, key: str, *, by: str = "", comment: str = "") -> bool:
        ack = getattr(self.runtime, "acknowledge", None)
        return bool(ack(key, by=by, comment=comment)) if ack else False

    def silence(self, key: str, until: date, *, by: str = "", comment: str = "") -> bool:
        silence = getattr(self.runtime, "silence", None)
        return bool(silence(key, until, by=by, comment=comment)) if silence else False

    # Silences by matcher (`m` widened, the silences screen): the engine's, as the CLI's.
    def silences(self) -> list[Any]:
        engine = getattr(self.runtime, "alerts", None)
        return list(engine.silences()) if engine is not None else []

    def add_silence(self, matchers: dict[str, str], until: date, *, by: str, comment: str) -> Any:
        return self.runtime.alerts.add_silence(matchers, until, by=by, comment=comment)

    def expire_silence(self, silence_id: int, *, by: str) -> Any:
        return self.runtime.alerts.expire_silence(silence_id, by=by)

    def author(self) -> str:
        """Who acts from this screen: `[user] name`, else the login name."""
        from dashboard.config import default_author

        return default_author(self.config)

    # -- export -------------------------------------------------------------------
    def export_formats(self) -> dict[str, str]:
        """File extension → export format, from the exporter plugins."""
        from dashboard.exporting import exporters

        return {e.extension.lstrip(".").lower(): e.format for e in exporters(self.runtime.plugins).values()}

    @work(thread=True, group="export", description="export")  # not the repr of every row
    def export(self, view: Any, name: str | None = None) -> None:
        """Write the view into the export folder (in a worker thread: a large XLSX
        takes seconds) and say where it went. `name` is what the user typed; its
        extension picks the format. A name that leaves the folder is refused."""
        from dashboard.exporting import ExportError, export_to_folder

        folder = self.config.export_dir or Path.cwd()
        formats = ["xlsx", "csv"]
        if name:
            ext = Path(name).suffix.lstrip(".").lower()
            known = self.export_formats()
            formats = [known[ext]] if ext in known else ["xlsx"]
        last_error = ""
        for fmt in formats:
            try:
                path = export_to_folder(view, fmt, folder, self.runtime.plugins, name=name)
            except ExportError as exc:
                last_error = str(exc)
                if name:
                    break  # a refused or unwritable name: say so, do not guess another file
                continue
            self.call_from_thread(
                self.notify,
                f"已导出 {len(view.rows)} 行到 {path}",
                title="导出 Exported",
                timeout=10,
                markup=False,
            )
            return
        self.call_from_thread(
            self.notify,
            last_error or "导出失败",
            title="导出失败 Export failed",
            severity="error",
            markup=False,
        )

    # -- keys, help, palette ----------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        # Any key pauses the kiosk rotation (a quiet minute resumes it).
        if self.kiosk and isinstance(event, events.Key):
            self.rotation.pause(time.monotonic())
            self.show_kiosk_state()
            # The header says `轮播 ▶` again when the quiet minute is over, not at the next beat.
            if self._resume_timer is not None:
                self._resume_timer.stop()
            self._resume_timer = self.set_timer(self.rotation.quiet + 0.1, self.show_kiosk_state)
        await super().on_event(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: `q` gives way to Ctrl+Q (each shown only when it quits), and the
        # refusals answer only the keys that would otherwise change something.
        if action == "leave":
            return (parameters == ("ctrl+q",)) == self.wall
        if action == "refused":  # a look back refuses changes, but `q` still quits
            return self.wall if parameters == ("退出",) else self.read_only
        return True

    def action_leave(self, key: str) -> None:
        self.exit()

    def action_refused(self, what: str) -> None:
        if self.look_back is not None and not self.wall:
            self.notify(
                f"{HISTORY_LABEL} {self.look_back:%Y-%m-%d}：只读，不能{what} looking back: read-only",
                title="历史回看 Looking back",
                severity="warning",
                timeout=4,
            )
            return
        self.notify(
            f"只读模式 read-only：不能{what}；按 Ctrl+Q 退出"
            if what != "退出"
            else "只读模式：按 Ctrl+Q 退出",
            title="只读模式 Read-only",
            severity="warning",
            timeout=4,
        )

    def key_groups(self) -> list[tuple[str, list[BindingType]]]:
        from dashboard.ui.screens.alerts import AlertsScreen
        from dashboard.ui.screens.case_detail import CaseDetailScreen
        from dashboard.ui.screens.cases import CasesScreen
        from dashboard.ui.screens.detail import ItemDetailScreen
        from dashboard.ui.screens.units import GroupScreen, UnitsScreen

        app_keys = [
            b for b in self.BINDINGS if not (isinstance(b, Binding) and b.action.startswith("refused"))
        ]
        return [
            ("全局 everywhere", app_keys),
            ("数据页面 data screens", list(DataScreen.BINDINGS)),
            ("表格 tables", list(VirtualTable.BINDINGS)),
            ("项目列表 item lists", list(ItemsScreen.BINDINGS)),
            ("单位/项目 units, projects", list(GroupScreen.BINDINGS) + list(UnitsScreen.BINDINGS)),
            ("项目详情 item detail", list(ItemDetailScreen.BINDINGS)),
            ("预警 alerts", list(AlertsScreen.BINDINGS)),
            ("案件详情 case", list(CaseDetailScreen.KEYS)),
            ("督办案件 cases", list(CasesScreen.BINDINGS)),
        ]

    def action_help(self) -> None:
        from dashboard.ui.screens.help import HelpScreen  # with its DataTable, when first asked for

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_groups(), read_only=self.read_only))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Only the app's own commands (no Textual developer commands, one quit), each
        named in Chinese and English: every binding live on this screen that is allowed
        now (read-only hides acknowledging and exporting), plus the views."""
        from dashboard.ui.screens.help import key_label

        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            bid = binding.id or ""
            # Textual's own (no id), the read-only refusals, cursor keys: not commands.
            if not bid or bid.startswith("app.read_only") or bid in NOT_COMMANDS:
                continue
            if binding.action in seen or not active.enabled:
                continue
            if self.read_only and binding.action.startswith("leave"):
                continue  # a passer-by's Ctrl+P, Enter must not close the wall screen
            seen.add(binding.action)
            key = binding.key_display or key_label(binding.key)
            yield SystemCommand(
                command_title(binding),
                f"按键 key: {key}",
                partial(self.run_action, binding.action, active.node),
            )

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT.name if self.current_theme.dark else DARK.name

    # -- kiosk --------------------------------------------------------------------
    def _start_kiosk(self) -> None:
        self._kiosk_timer = self.set_interval(self.config.ui.kiosk_interval, self.kiosk_tick)
        self.show_kiosk_state()

    def kiosk_state(self, now: float | None = None) -> str:
        """`轮播 ▶ 20s`, `已暂停 ⏸` while a key holds the rotation, "" when not rotating."""
        if not self.kiosk:
            return ""
        if self.rotation.paused(time.monotonic() if now is None else now):
            return "已暂停 ⏸"
        return f"轮播 ▶ {self.config.ui.kiosk_interval:g}s"

    def show_kiosk_state(self, now: float | None = None) -> None:
        """The rotation's state after the title in the header (every screen's header shows it)."""
        label = self.kiosk_state(now)
        if label != self._kiosk_label:
            self._kiosk_label = label
            self.title = f"{self.base_title}   {label}" if label else self.base_title

    def kiosk_tick(self, now: float | None = None) -> None:
        """One beat of the rotation: the next view, unless a key paused it."""
        now = time.monotonic() if now is None else now
        mode = self.rotation.tick(now)
        self.show_kiosk_state(now)
        if mode is None:
            return
        # Never stuck on a dialog or a drill-down: back to the view's first screen.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.switch_mode(mode)

    def action_toggle_kiosk(self) -> None:
        self.kiosk = not self.kiosk
        if self.kiosk:
            self._start_kiosk()
        elif self._kiosk_timer is not None:
            self._kiosk_timer.stop()
            self._kiosk_timer = None
        self.show_kiosk_state()
        for table in self.screen.query(VirtualTable):
            table.show_cursor = not self.kiosk
        self.notify("轮播开启 kiosk on" if self.kiosk else "轮播关闭 kiosk off")

    async def action_switch_mode(self, mode: str) -> None:
        """Go to a view; pressing the key of the view you are in returns to its first screen."""
        self.rotation.follow(mode)
        if mode == self.current_mode:
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        await super().action_switch_mode(mode)


def look_back_day(runtime: Runtime) -> date | None:
    """The `--as-of` day when history holds points on or before it and after it (a look
    back, as `dashboard check --as-of`); None for today's data or a what-if date."""
    day = runtime.as_of_override
    try:
        return day if day is not None and looks_back(runtime.store, day) else None
    except sqlite3.Error:  # a store that cannot be read has no history to look back at
        return None


def make_app(
    config: Config, runtime: Runtime | None = None, *, clock: Callable[[], datetime] | None = None
) -> DashboardApp:
    """The app on `config`; `clock` fixes the time shown (for tests and snapshots)."""
    return DashboardApp(config, runtime or Runtime(config), clock=clock)

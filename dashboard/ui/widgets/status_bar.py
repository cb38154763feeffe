"""`#status-bar`: sources' state and the last refresh time, on every screen."""

from __future__ import annotations

import time
from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from dashboard.runtime import SourceState

STALE_PERIODS = 3  # design §5: no good fetch for 3 refresh periods


def is_stale(state: SourceState, now: datetime) -> bool:
    """The runtime's own verdict when it gives one, else no success for 3 refresh periods."""
    own = getattr(state, "is_stale", None)
    if callable(own):
        return bool(own(now))
    if state.last_success is None:
        return state.ok is False
    return (now - state.last_success).total_seconds() > STALE_PERIODS * state.spec.refresh


def stale_sources(states: list[SourceState], now: datetime) -> list[SourceState]:
    return [s for s in states if is_stale(s, now)]


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{seconds // 60} 分钟"
    if seconds < 86400:
        return f"{seconds // 3600} 小时"
    return f"{seconds // 86400} 天"


def fetching_text(fetching: dict[str, tuple[float, int | None]]) -> str:
    """`正在读取 通报 3 秒、码上通 1 秒（已读 1200 行）`, or "" when nothing is being read."""
    if not fetching:
        return ""
    parts = []
    for name, (seconds, rows) in fetching.items():
        read = f"（已读 {rows} 行）" if rows is not None else ""
        parts.append(f"{name} {age_text(seconds)}{read}")
    return "正在读取 " + "、".join(parts)


def loading_text(fetching: dict[str, tuple[float, int | None]], names: list[str]) -> str:
    """`载入中… 通报 3 秒、码上通 1 秒`: what the screen waits for before its first data."""
    if not fetching:
        return "载入中… " + "、".join(names) if names else "载入中…"
    return "载入中… " + fetching_text(fetching).removeprefix("正在读取 ")


def warning_count(states: list[SourceState]) -> int:
    """Row warnings (a cell that could not be read) over every source's last good data."""
    return sum(len(s.warnings) for s in states)


class StatusBar(Static):
    """One line: the time of the last good data, failed sources in red, else how many are
    fine, then the fetches running, row warnings, stale sources and open alerts.

    Every second it draws itself again from the runtime's live source states, so ages
    tick and a fetch in flight shows, whether or not new data has arrived."""

    TICK = 1.0  # seconds between redraws of the ages
    _shown: list[tuple[str, str]] | None = None

    def on_mount(self) -> None:
        self.set_interval(self.TICK, self.tick)

    def tick(self) -> None:
        """Redraw from the live state (cheap: nothing is updated when the text is the same)."""
        if not self.screen.is_current:
            return  # a screen out of sight draws when it is shown again
        app = self.app
        runtime = getattr(app, "runtime", None)
        if runtime is None:
            return
        states = list(runtime.states.values())
        refreshed = app.refreshed_text() if hasattr(app, "refreshed_text") else "—"
        now = app.now() if hasattr(app, "now") else datetime.now()
        self.show(states, refreshed, now, getattr(app, "open_alerts", None))

    def show(self, states: list[SourceState], refreshed: str, now: datetime, open_alerts: int | None) -> None:
        # Textual `Content`, not a rich `Text`: no conversion on every refresh. `ansi_*` colours
        # are the terminal's own red and yellow, as rich's `red` and `yellow` were.
        parts: list[tuple[str, str]] = [
            (f"更新于 {refreshed}   ", "bold")
        ]  # first: never scrolls out of view
        runtime = getattr(self.app, "runtime", None)
        fetching_of = getattr(runtime, "fetching", None)
        fetching = fetching_text(fetching_of() if callable(fetching_of) else {})
        failed = [s for s in states if s.ok is False]
        if failed:
            parts.append(("  ".join(f"✗ {s.name}: {s.error}" for s in failed), "bold ansi_red"))
        elif all(s.ok or s.restored for s in states):  # restored: the last good data, from the store
            parts.append((f"数据源 {len(states)} 个正常 sources ok", "dim"))
        else:  # some not loaded yet: not "ok"
            loaded = sum(1 for s in states if s.ok or s.restored)
            parts.append((f"数据源 {loaded}/{len(states)} 个已载入 sources loaded", "dim"))
        if fetching:
            parts.append((f"   {fetching}", "bold"))
        note = getattr(self.app, "status_note", None)
        if note is not None and time.monotonic() < note[2]:  # `r`: refreshing, refreshed or failed
            parts.append((f"   {note[0]}", "bold ansi_red" if note[1] else "bold ansi_green"))
        # The store's problem (read-only, full, damaged): the data shown is not being kept.
        store_status = getattr(runtime, "store_status", "")
        if store_status:
            parts.append((f"   {store_status}", "bold ansi_red"))
        warnings = warning_count(states)
        if warnings:
            parts.append((f"   ⚠ 数据警告 {warnings} 行", "ansi_yellow"))
        stale = stale_sources(states, now)
        if stale:
            # Each with the age of the items still on screen (its last good fetch).
            ages = (
                f"{s.name}（{age_text((now - s.last_success).total_seconds())}前）"
                if s.last_success
                else s.name
                for s in stale
            )
            parts.append(("   数据过期: " + "、".join(ages), "bold ansi_yellow"))
        if open_alerts:
            parts.append((f"   未处理预警 {open_alerts}", "bold ansi_yellow"))
        if parts != self._shown:
            self._shown = parts
            self.update(Content.assemble(*parts), layout=False)  # one line, fixed height (dashboard.tcss)

"""`#status-bar`: sources' state and the last refresh time, on every screen."""

from __future__ import annotations

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


class StatusBar(Static):
    """One line: failed sources in red, else how many are fine; always the refresh time."""

    _shown: list[tuple[str, str]] | None = None

    def show(self, states: list[SourceState], refreshed: str, now: datetime, open_alerts: int | None) -> None:
        # Textual `Content`, not a rich `Text`: no conversion on every refresh. `ansi_*` colours
        # are the terminal's own red and yellow, as rich's `red` and `yellow` were.
        parts: list[tuple[str, str]] = [
            (f"更新于 {refreshed}   ", "bold")
        ]  # first: never scrolls out of view
        failed = [s for s in states if s.ok is False]
        if failed:
            parts.append(("  ".join(f"✗ {s.name}: {s.error}" for s in failed), "bold ansi_red"))
        else:
            parts.append((f"数据源 {len(states)} 个正常 sources ok", "dim"))
        # The store's problem (read-only, full, damaged): the data shown is not being kept.
        store_status = getattr(getattr(self.app, "runtime", None), "store_status", "")
        if store_status:
            parts.append((f"   {store_status}", "bold ansi_red"))
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

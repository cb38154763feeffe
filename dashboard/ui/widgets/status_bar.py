"""`#status-bar`: sources' state and the last refresh time, on every screen."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
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

    _shown: Text | None = None

    def show(self, states: list[SourceState], refreshed: str, now: datetime, open_alerts: int | None) -> None:
        text = Text()
        text.append(f"更新于 {refreshed}   ", "bold")  # first, so it never scrolls out of view
        failed = [s for s in states if s.ok is False]
        if failed:
            text.append("  ".join(f"✗ {s.name}: {s.error}" for s in failed), "bold red")
        else:
            text.append(f"数据源 {len(states)} 个正常 sources ok", "dim")
        stale = stale_sources(states, now)
        if stale:
            # Each with the age of the items still on screen (its last good fetch).
            text.append(
                "   数据过期: "
                + "、".join(
                    f"{s.name}（{age_text((now - s.last_success).total_seconds())}前）"
                    if s.last_success
                    else s.name
                    for s in stale
                ),
                "bold yellow",
            )
        if open_alerts:
            text.append(f"   未处理预警 {open_alerts}", "bold yellow")
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # one line, fixed height (dashboard.tcss)

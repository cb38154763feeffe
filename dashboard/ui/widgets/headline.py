"""Headline figures in large digits, readable from across the room."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Digits, Static

from dashboard.core.parse import format_percent
from dashboard.runtime import Snapshot

# (id, label, quick-filter key): the order of the cards on screen.
CARDS = (
    ("total", "总数", "0"),
    ("done", "已完成", "1"),
    ("on_track", "正常", "2"),
    ("lagging", "滞后", "3"),
    ("severe", "严重滞后", "4"),
    ("alerts", "预警", "w"),
)


class Headline(Vertical):
    """Cards: total, done, on track, lagging, severe, open alerts; then the as-of line."""

    _cards: dict[str, Digits] | None = None
    _line: Static
    _shown: list[tuple[str, str] | str] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="cards"):
            for key, label, hotkey in CARDS:
                digits = Digits("–", id=f"card-{key}", classes=f"card card-{key}")
                digits.border_title = label
                digits.border_subtitle = escape(f"[{hotkey}]")  # the quick-filter key
                yield digits
        yield Static(id="asof-line")

    def show_loading(self, text: str) -> None:
        """Before the first data: `载入中… 通报 3 秒` on the as-of line, the cards blank."""
        line = self.query_one("#asof-line", Static)
        parts: list[tuple[str, str] | str] = [(text, "bold")]
        if parts != self._shown:
            self._shown = parts
            line.update(Content.assemble(*parts), layout=False)

    def show(self, snap: Snapshot, open_alerts: int | None, refreshed: str, stale: bool) -> None:
        counts = dict(snap.by_status, total=len(snap.evaluated), alerts=open_alerts)
        if self._cards is None:  # looked up once: this runs on every refresh
            self._cards = {key: self.query_one(f"#card-{key}", Digits) for key, _, _ in CARDS}
            self._line = self.query_one("#asof-line", Static)
        for key, digits in self._cards.items():
            value = counts.get(key)
            text = "–" if value is None else str(value)
            if digits.value != text:  # a refresh usually moves few counts, if any
                digits.update(text)
        # The data states no date: say the as-of is only today's (Snapshot.as_of_source).
        today = snap.as_of_source == "today"
        today_note = [("（截止日期取自今天：数据中没有截止日期）", "italic")] if today else []
        parts: list[tuple[str, str] | str] = [
            (f"截止 {snap.as_of:%Y-%m-%d}", "bold"),
            *today_note,
            "   序时进度 expected ",
            (format_percent(snap.expected, 0), "bold"),
            *([(f"（{snap.calendar}）", "dim")] if snap.calendar else []),
            f"   更新于 {refreshed}",
        ]
        if stale:
            parts += ["   ", (" 数据过期 STALE ", "reverse bold")]
        if counts["unknown"]:
            parts.append((f"   未知 {counts['unknown']}", "dim"))
        if parts != self._shown:  # Textual `Content`, not a rich `Text`: no conversion per refresh
            self._shown = parts
            self._line.update(
                Content.assemble(*parts), layout=False
            )  # one line, fixed height (dashboard.tcss)

"""What every data screen shares: it follows the app's snapshot, keeps a status
bar with the last refresh time, and exports what it shows with `e`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen

from dashboard.runtime import Snapshot
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.ui.widgets.table import VirtualTable

# Actions a read-only screen (`[ui] read_only`, the kiosk's default) does not offer.
CHANGING_ACTIONS = frozenset({"export", "export_as", "acknowledge", "silence", "open_case"})

# Between the view's title and the new-alert line in the header.
BANNER_MARK = "  ⚠ "

if TYPE_CHECKING:
    from dashboard.ui.app import DashboardApp
    from dashboard.views import TableView


class DataScreen(Screen[None]):
    """A screen that renders the latest snapshot; `show_snapshot` updates it in place."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export", "导出", id="screen.export"),
        Binding("E", "export_as", "导出为…", show=False, id="screen.export_as"),
    ]
    # Title of the view, used in exports and the header.
    VIEW_TITLE = ""
    _pending: Snapshot | None = None  # a snapshot that arrived while out of sight
    _status_bars: list[StatusBar] | None = None
    header_title = ""  # what the header names, when not VIEW_TITLE (an item's name)

    @property
    def dash(self) -> DashboardApp:
        return self.app  # type: ignore[return-value]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A read-only screen hides what would change something; the key then reaches
        # the app, which says `只读模式` (DashboardApp.action_refused).
        return not (action in CHANGING_ACTIONS and getattr(self.app, "read_only", False))

    def on_mount(self) -> None:
        self.show_title()
        for table in self.query(VirtualTable):
            table.show_cursor = not self.dash.kiosk  # the office screen shows no cursor
        self.watch(self.app, "snapshot", self._snapshot_changed, init=True)

    def _snapshot_changed(self, snap: Snapshot | None) -> None:
        if snap is None:
            return
        if not self.is_current:
            # A screen out of sight catches up when it is shown again: a refresh
            # costs only what is on screen.
            self._pending = snap
            return
        self._pending = None
        self.show_snapshot(snap)
        self.show_status(snap)

    def show_title(self) -> None:
        """The view's title in the header, and the newest alerts after it while they are new."""
        title = self.header_title or self.VIEW_TITLE
        if title:
            banner = self.dash.alert_banner
            self.sub_title = f"{title}{BANNER_MARK}{banner}" if banner else title

    def show_status(self, snap: Snapshot) -> None:
        """The status bar: sources, open alerts and the last refresh time."""
        if self._status_bars is None:  # looked up once: this runs on every refresh
            self._status_bars = list(self.query(StatusBar))
        for bar in self._status_bars:
            bar.show(snap.sources, self.dash.refreshed_text(snap), self.dash.now(), self.dash.open_alerts)

    def on_screen_resume(self) -> None:
        if self._pending is not None:
            self._snapshot_changed(self._pending)
        elif self.dash.snapshot is not None:  # counts may have changed (an alert acknowledged)
            self.show_counts(self.dash.snapshot)
            self.show_status(self.dash.snapshot)

    def show_counts(self, snap: Snapshot) -> None:
        """Update headline figures only (cheap); screens with a headline override it."""

    def show_snapshot(self, snap: Snapshot) -> None:
        """Update the widgets in place (cursor and scroll kept by the tables)."""

    def export_view(self) -> TableView | None:
        """The rows on screen (same filter and sort) as a view to export."""
        return None

    def action_export(self) -> None:
        view = self.export_view()
        if view is None:
            self.notify("此页面没有可导出的表格 Nothing to export here", severity="warning")
            return
        self.dash.export(view)

    def action_export_as(self) -> None:
        """Export under a typed name; the kiosk never opens a dialog, so it exports as `e`."""
        view = self.export_view()
        if view is None or self.dash.kiosk:
            self.action_export()
            return
        from datetime import datetime

        from dashboard.exporting import default_file_name
        from dashboard.ui.screens.export_dialog import ExportDialog

        folder = self.dash.config.export_dir
        dialog = ExportDialog(
            str(folder),
            default_file_name(view.name, "xlsx", datetime.now()),
            sorted(self.dash.export_formats()),
        )

        def done(name: str | None) -> None:
            if name:
                self.dash.export(view, name)

        self.app.push_screen(dialog, done)

    def notes(self, *extra: str) -> list[str]:
        snap = self.dash.snapshot
        lines: list[str] = []
        if snap is not None:
            lines.append(f"截止 {snap.as_of:%Y-%m-%d}，序时进度 {round(snap.expected * 100)}%")
        lines.extend(e for e in extra if e)
        return lines


def describe_filter(text: str, status_names: Sequence[str] = ()) -> str:
    """「筛选「交警」，状态：严重滞后」: the filter in words, for the screen and exports."""
    parts = []
    if text:
        parts.append(f"筛选「{text}」")
    if status_names:
        parts.append("状态：" + "、".join(status_names))
    return "，".join(parts)

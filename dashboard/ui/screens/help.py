"""`?`: every key of every screen, read from the bindings themselves."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from dashboard.ui.keys import command_title

KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "escape": "Esc",
    "enter": "Enter",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "ctrl+p": "Ctrl+P",
    "ctrl+q": "Ctrl+Q",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "home": "Home",
    "end": "End",
}


def key_label(key: str) -> str:
    return ", ".join(KEY_NAMES.get(k, k) for k in key.split(","))


def binding_rows(groups: list[tuple[str, list[BindingType]]]) -> list[tuple[str, str, str]]:
    """(screen, key, what it does) for every binding, the screen named once per group."""
    rows: list[tuple[str, str, str]] = []
    for group, bindings in groups:
        first = True
        for b in bindings:
            if not isinstance(b, Binding):
                continue
            rows.append((group if first else "", b.key_display or key_label(b.key), command_title(b)))
            first = False
    return rows


class HelpScreen(ModalScreen[None]):
    """All keys, grouped by screen; any of Esc, ? or q closes it. The box has the focus
    from the start, so ↓, PgDn and End scroll it without a Tab first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "关闭", id="help.close"),
    ]

    def __init__(self, groups: list[tuple[str, list[BindingType]]], *, read_only: bool = False) -> None:
        super().__init__()
        self.groups = groups
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        title = "按键一览 Keys  (Esc 关闭；Ctrl+P 命令面板 command palette)"
        if self.read_only:
            title += "\n只读模式 read-only：确认、静默、导出、立案与案件操作不可用，Ctrl+Q 退出"
        with VerticalScroll(id="help-box"):
            yield Static(title, id="help-title")
            table: DataTable[Text] = DataTable(id="help-keys", cursor_type="none", zebra_stripes=True)
            table.can_focus = False  # the box scrolls, not the table inside it
            yield table

    def on_mount(self) -> None:
        table = self.query_one("#help-keys", DataTable)
        table.add_columns("页面 screen", "按键 key", "作用 action")
        table.add_rows([tuple(map(Text, row)) for row in binding_rows(self.groups)])
        self.query_one("#help-box", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss()

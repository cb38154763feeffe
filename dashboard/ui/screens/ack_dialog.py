"""`a` on the alerts screen: who acknowledges (prefilled) and an optional comment.
Enter with the defaults acknowledges at once; Escape cancels."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class AckDialog(ModalScreen[tuple[str, str] | None]):
    """Returns (author, comment), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "取消", id="ack.cancel"),
    ]

    def __init__(self, record: Any, author: str) -> None:
        super().__init__()
        self.record = record
        self.author = author

    def compose(self) -> ComposeResult:
        with Vertical(id="ack-dialog", classes="alert-dialog"):
            yield Label("确认预警 Acknowledge", classes="alert-dialog-title")
            yield Label(str(self.record.message), classes="alert-dialog-message", markup=False)
            with Horizontal(classes="alert-dialog-field"):
                yield Label("确认人 by", classes="alert-dialog-label")
                yield Input(self.author, id="ack-by")
            with Horizontal(classes="alert-dialog-field"):
                yield Label("说明 comment", classes="alert-dialog-label")
                yield Input(placeholder="可不填 optional", id="ack-comment")
            yield Label("Enter 确认  Esc 取消", classes="dim")

    def on_mount(self) -> None:
        self.query_one("#ack-comment", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        by = self.query_one("#ack-by", Input).value.strip()
        self.dismiss((by or self.author, self.query_one("#ack-comment", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)

"""`E`: export the current view under a name the user types (inside the export folder)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class ExportDialog(ModalScreen[str | None]):
    """Asks for a file name; the extension picks the format (xlsx when there is none).
    Returns the name, or None when cancelled. The folder check happens on export."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "取消", id="export.cancel"),
    ]

    def __init__(self, folder: str, default_name: str, formats: list[str]) -> None:
        super().__init__()
        self.folder = folder
        self.default_name = default_name
        self.formats = formats

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Label("导出当前视图 Export this view", id="export-title")
            yield Label(f"导出文件夹 folder: {self.folder}", markup=False)
            yield Label(f"格式由扩展名决定 format by extension: {', '.join(self.formats)}", markup=False)
            yield Input(self.default_name, id="export-name")
            yield Label("Enter 导出  Esc 取消", classes="dim")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""The 督办 case dialogs: open a case on an item (`c`), add a note (`n`). Each hands
what was typed to a `submit` callback that does the step and returns an error text
(the dialog stays open and shows it) or None (the dialog closes)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from dashboard import casework
from dashboard.cases import CaseError
from dashboard.core.items import Status
from dashboard.core.parse import format_percent

if TYPE_CHECKING:
    from dashboard.ui.screens.base import DataScreen


@dataclass(frozen=True, slots=True)
class CaseRequest:
    """What the open-case dialog collected."""

    deadline: date
    action: str
    by: str


@dataclass(frozen=True, slots=True)
class NoteRequest:
    text: str
    by: str


class _Dialog(ModalScreen[bool]):
    """A small form: Enter in any field submits, Esc cancels; errors stay on screen."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "取消", id="case_dialog.cancel")]

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def show_error(self, text: str) -> None:
        error = self.query_one(".case-error", Static)
        error.update(text)
        error.display = bool(text)


class OpenCaseDialog(_Dialog):
    """立案: item shown, deadline (YYYY-MM-DD), required action and author prefilled."""

    def __init__(
        self,
        item_text: str,
        deadline: date,
        action: str,
        by: str,
        submit: Callable[[CaseRequest], str | None],
    ) -> None:
        super().__init__()
        self.item_text = item_text
        self.deadline = deadline
        self.action = action
        self.by = by
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(id="case-dialog", classes="case-dialog"):
            yield Label("督办立案 Open a 督办 case", classes="case-dialog-title")
            yield Static(self.item_text, markup=False, classes="case-dialog-item")
            yield Label("整改期限 deadline (YYYY-MM-DD)")
            yield Input(f"{self.deadline:%Y-%m-%d}", id="case-deadline")
            yield Label("整改要求 required action")
            yield Input(self.action, id="case-action")
            yield Label("立案人 opened by")
            yield Input(self.by, id="case-by")
            yield Static("", classes="case-error")
            yield Label("Enter 立案  Esc 取消", classes="dim")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(".case-error", Static).display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = self.query_one("#case-deadline", Input).value.strip()
        try:
            deadline = date.fromisoformat(text)
        except ValueError:
            self.show_error(f"限期「{text}」不是日期，应为 YYYY-MM-DD")
            return
        request = CaseRequest(
            deadline,
            self.query_one("#case-action", Input).value.strip(),
            self.query_one("#case-by", Input).value.strip(),
        )
        error = self.submit(request)
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


class NoteDialog(_Dialog):
    """备注: the note and who writes it."""

    def __init__(self, case_text: str, by: str, submit: Callable[[NoteRequest], str | None]) -> None:
        super().__init__()
        self.case_text = case_text
        self.by = by
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(id="note-dialog", classes="case-dialog"):
            yield Label("添加备注 Add a note", classes="case-dialog-title")
            yield Static(self.case_text, markup=False, classes="case-dialog-item")
            yield Label("备注 note")
            yield Input("", id="note-text", placeholder="如：已电话督促，单位承诺10月15日前完成")
            yield Label("备注人 by")
            yield Input(self.by, id="note-by")
            yield Static("", classes="case-error")
            yield Label("Enter 保存  Esc 取消", classes="dim")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(".case-error", Static).display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        request = NoteRequest(
            self.query_one("#note-text", Input).value.strip(), self.query_one("#note-by", Input).value.strip()
        )
        error = self.submit(request)
        if error:
            self.show_error(error)
        else:
            self.dismiss(True)


def step_error(exc: Exception) -> str:
    """What the dialog or the notice says when a step was refused or could not be stored."""
    if isinstance(exc, CaseError):
        return str(exc)
    return f"存储不可写，未保存 not stored: {exc}"


STEP_ERRORS = (CaseError, sqlite3.Error, OSError)


def start_case(screen: DataScreen, item_id: str) -> None:
    """`c` on an item: its case still being worked is shown; else the open-case dialog."""
    from dashboard.ui.screens.case_detail import CaseDetailScreen

    app = screen.dash
    if app.read_only:  # the key binding is hidden then; the palette may still reach here
        app.action_refused("立案督办")
        return
    runtime = app.runtime
    existing = casework.active_case(runtime, item_id)
    if existing is not None:
        app.notify(
            f"项目 {item_id} 已有督办案件 #{existing.id}（{existing.state}），不再重复立案 already open",
            markup=False,
        )
        app.push_screen(CaseDetailScreen(existing.id))
        return
    snap = app.snapshot
    found = next((e for e in snap.evaluated if e.item.id == item_id), None) if snap else None
    if snap is None or found is None:
        app.notify(f"项目 {item_id} 不在数据中 not in the data", severity="error", markup=False)
        return
    item = found.item
    behind = found.status in (Status.LAGGING, Status.SEVERE)
    item_text = (
        f"[{item.id}] {item.name}\n牵头单位 {item.unit}  完成 {format_percent(item.ratio)} / "
        f"序时 {format_percent(found.expected, 0)}  {found.status.label}"
    )
    deadline = casework.default_deadline(runtime, snap.as_of, date.today())

    def submit(request: CaseRequest) -> str | None:
        try:
            case = casework.open_case(
                runtime,
                item_id=item.id,
                item_name=item.name,
                unit=item.unit,
                deadline=request.deadline,
                action=request.action,
                by=request.by,
            )
        except STEP_ERRORS as exc:
            return step_error(exc)
        app.notify(
            f"已立案 督办案件 #{case.id}：[{case.item_id}] {case.item_name}，限期 {case.deadline}（k 查看）",
            title="督办 Case opened",
            markup=False,
        )
        return None

    app.push_screen(
        OpenCaseDialog(item_text, deadline, casework.default_action(behind), casework.author(runtime), submit)
    )


def note_submitter(app: Any, case_id: int, done: Callable[[], None]) -> Callable[[NoteRequest], str | None]:
    """The note dialog's step: store the note, then `done` (the screen reloads)."""

    def submit(request: NoteRequest) -> str | None:
        try:
            casework.add_note(app.runtime, case_id, request.text, request.by)
        except STEP_ERRORS as exc:
            return step_error(exc)
        app.notify(f"督办案件 #{case_id}：已添加备注 noted", markup=False)
        done()
        return None

    return submit

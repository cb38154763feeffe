"""One 督办 case: its item (ratio against the expected progress), the required action,
deadline and state, the notes and the case's audit trail (留痕). `n` adds a note, `x`
销号 (only a rectified case), `o` reopens, Esc goes back. A read-only screen refuses
the three with the app's notice."""

from __future__ import annotations

import sqlite3
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Header, Static

from dashboard import casework
from dashboard.cases import CLOSED, OPEN, RECTIFIED
from dashboard.casework import CaseFile
from dashboard.core.parse import format_percent
from dashboard.item_trail import KIND_LABELS
from dashboard.runtime import Snapshot
from dashboard.ui.screens.base import DataScreen
from dashboard.ui.screens.case_dialog import STEP_ERRORS, NoteDialog, note_submitter, step_error
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import STATUS_STYLE
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.views import TableView

STATE_STYLE = {OPEN: "bold", RECTIFIED: "bold green", CLOSED: "dim"}
# The case steps that change something, and the word the read-only notice uses for each.
CASE_STEPS = {"case_note": "添加备注", "close_case": "销号", "reopen_case": "重新督办"}


def _at(text: str | None) -> str:
    return (text or "")[:16].replace("T", " ")


def trail_change(row: dict[str, Any]) -> str:
    """`督办中 → 已整改`, the note's text, or what the step set."""
    before, after = row.get("before") or {}, row.get("after") or {}
    if row["kind"] == "case_noted":
        return f"「{after.get('text', row.get('comment') or '')}」"
    if row["kind"] == "case_overdue":
        return f"限期 {after.get('deadline', '')} 已过"
    old, new = before.get("state"), after.get("state")
    if old and new and old != new:
        return f"{old} → {new}"
    return f"→ {new}" if new else ""


def trail_text(rows: list[dict[str, Any]]) -> Text:
    text = Text()
    if not rows:
        text.append("（没有留痕 no trail）", "dim")
    for r in rows:
        text.append(f"{_at(r['at'])}  ", "dim")
        text.append(f"{r['actor']}  ", "bold")
        text.append(f"{KIND_LABELS.get(r['kind'], r['kind'])}  ")
        text.append(trail_change(r))
        text.append("\n")
    text.rstrip()
    return text


def notes_text(notes: list[dict[str, Any]]) -> Text:
    text = Text()
    if not notes:
        text.append("（还没有备注 no notes yet；按 n 添加）", "dim")
    for n in notes:
        text.append(f"{_at(n['at'])}  ", "dim")
        text.append(f"{n['author']}  ", "bold")
        text.append(f"{n['text']}\n")
    text.rstrip()
    return text


class CaseDetailScreen(DataScreen):
    """督办案件 #n; updates in place on refresh."""

    VIEW_TITLE = "督办案件 Case"
    KEYS: ClassVar[list[BindingType]] = [  # what the help lists
        Binding("n", "case_note", "备注", id="case.note"),
        Binding("x", "close_case", "销号", id="case.close"),
        Binding("o", "reopen_case", "重新督办", id="case.reopen"),
        Binding("escape", "back", "返回", id="case.back"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        *KEYS,
        # Read-only: the same keys answer with the app's notice (never shown; the `app.read_only`
        # ids keep them out of the palette, as the app's own refusals).
        *(
            Binding(key, f"refused('{what}')", what, show=False, id=f"app.read_only_{action}")
            for key, (action, what) in zip("nxo", CASE_STEPS.items(), strict=True)
        ),
    ]

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id
        self.file: CaseFile | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="case-detail"):
            yield Static(id="case-title")
            yield Static(id="case-item")
            yield Static(id="case-facts")
            yield Static("备注 notes", classes="section")
            yield Static(id="case-notes")
            yield Static("留痕 audit trail", classes="section")
            yield Static(id="case-trail")
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    def on_mount(self) -> None:
        self.header_title = f"督办案件 #{self.case_id}"
        super().on_mount()
        self.query_one("#case-detail", VerticalScroll).focus()
        self.reload_case()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        read_only = bool(getattr(self.app, "read_only", False))
        if action in CASE_STEPS:
            return not read_only
        if action == "refused":
            return read_only
        return super().check_action(action, parameters)

    def action_refused(self, what: str) -> None:
        self.dash.action_refused(what)

    def action_back(self) -> None:
        self.dismiss()

    # -- data ------------------------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        self.reload_case()

    def show_counts(self, snap: Snapshot) -> None:
        self.reload_case()

    def follow_alerts(self) -> None:
        self.reload_case()

    @work(thread=True, exclusive=True, group="case", description="read the case")
    def reload_case(self) -> None:
        try:
            found = casework.case_file(self.dash.runtime, self.case_id)
        except sqlite3.Error as exc:  # a damaged store: say so, keep what is on screen
            self.app.call_from_thread(self.notify, f"督办案件不可读 case unreadable: {exc}", severity="error")
            return
        self.app.call_from_thread(self._show_file, found)

    def _show_file(self, found: CaseFile | None) -> None:
        self.file = found
        title = self.query_one("#case-title", Static)
        if found is None:
            title.update(Text(f"没有督办案件 #{self.case_id} (no such case)", "bold yellow"))
            return
        case = found.case
        head = Text.assemble(
            (f"督办案件 #{case.id}  ", "bold"), (f"【{case.state}】", STATE_STYLE.get(case.state, "bold"))
        )
        if case.overdue:
            head.append("  逾期 overdue", "bold red")
        title.update(head)
        self.query_one("#case-item", Static).update(self._item_text())
        facts = Text.assemble(
            "整改要求 ",
            (case.action, "bold"),
            "\n限期 deadline ",
            (f"{case.deadline:%Y-%m-%d}", "bold red" if case.overdue else "bold"),
            f"    立案 opened {case.author} {case.opened_at:%Y-%m-%d %H:%M}",
        )
        if case.alert_key:
            facts.append(f"    来自预警 {case.alert_key}", "dim")
        if case.rectified_at:
            facts.append(f"\n已整改 rectified {case.rectified_at:%Y-%m-%d %H:%M}", "green")
        if case.closed_at:
            facts.append(f"\n已销号 closed {case.closed_at:%Y-%m-%d %H:%M}")
        self.query_one("#case-facts", Static).update(facts)
        self.query_one("#case-notes", Static).update(notes_text(found.notes))
        self.query_one("#case-trail", Static).update(trail_text(found.trail))

    def _item_text(self) -> Text:
        """The item as the data shows it now: name, unit, ratio against the expected progress."""
        case = self.file.case if self.file else None
        snap = self.dash.snapshot
        if case is None:
            return Text()
        found = next((e for e in snap.evaluated if e.item.id == case.item_id), None) if snap else None
        text = Text.assemble(
            "项目 ", (f"[{case.item_id}] {case.item_name}", "bold"), "    牵头单位 ", (case.unit, "bold")
        )
        if found is None:
            text.append("\n（项目已不在数据中 item no longer in the data）", "yellow")
            return text
        style = STATUS_STYLE[found.status]
        text.append("\n完成比例 ratio ")
        text.append(format_percent(found.item.ratio), f"bold {style}")
        text.append("  vs 序时进度 expected ")
        text.append(format_percent(found.expected, 0), "bold")
        text.append("  ")
        text.append(f"【{found.status.label}】", style)
        return text

    # -- steps -----------------------------------------------------------------------
    def _case_text(self) -> str:
        case = self.file.case if self.file else None
        return f"督办案件 #{self.case_id}" + (f"：[{case.item_id}] {case.item_name}" if case else "")

    def action_case_note(self) -> None:
        if self.file is not None and self.file.case.state == CLOSED:
            self.notify(
                f"督办案件 #{self.case_id} 已销号，不能再添加备注（可按 o 重新督办）",
                severity="warning",
                markup=False,
            )
            return
        submit = note_submitter(self.dash, self.case_id, self.reload_case)
        self.app.push_screen(NoteDialog(self._case_text(), casework.author(self.dash.runtime), submit))

    def action_close_case(self) -> None:
        self._step(casework.close_case, "已销号 closed")

    def action_reopen_case(self) -> None:
        self._step(casework.reopen_case, "重新督办 reopened")

    def _step(self, step: Any, done: str) -> None:
        try:
            step(self.dash.runtime, self.case_id)
        except STEP_ERRORS as exc:
            self.notify(step_error(exc), title="未执行 Not done", severity="warning", markup=False)
            return
        self.notify(f"督办案件 #{self.case_id}：{done}", markup=False)
        self.reload_case()

    def export_view(self) -> TableView | None:
        from dashboard.views import cases_view

        if self.file is None:
            return None
        return cases_view([self.file.case], f"督办案件 #{self.case_id}", self.notes())

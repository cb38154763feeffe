"""`m` on the alerts screen: silence the cursor's alert, or widen the matcher to its
rule, its unit or both (optionally its level), until a date or for a while, with a
required author and comment. The dialog only asks; the alerts screen acts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, RadioButton, RadioSet

from dashboard.core.alert_rules import rule_label

DEFAULT_FOR = "7d"  # as `m` always did: a week

# Scope id → (label, the record's fields it matches). "alert" is this one alert.
SCOPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "alert": ("仅此预警 this alert", ("rule", "item")),
    "rule-unit": ("此规则·此单位 this rule, this unit", ("rule", "unit")),
    "rule": ("此规则·所有单位 this rule, every unit", ("rule",)),
    "unit": ("此单位·所有规则 this unit, every rule", ("unit",)),
}


@dataclass(frozen=True)
class SilenceRequest:
    """What the dialog asks for. `key` is set when it is this one alert with no level
    (silenced on the alert itself, like `dashboard ack KEY --for`); else `matchers`
    make a silence by matcher, like `dashboard silence`."""

    matchers: dict[str, str]
    until: date
    by: str
    comment: str
    key: str = ""
    scope: str = "alert"


def parse_until(text: str, today: date) -> date | str:
    """A date (YYYY-MM-DD) or a duration (`7d`, `2w`, `7`): the last day silenced, or
    what is wrong with `text` in words. Silences run on the calendar: not before today."""
    from dashboard.commands.common import UsageError, duration_days, until_from_duration

    value = text.strip() or DEFAULT_FOR
    try:
        until = date.fromisoformat(value)
    except ValueError:
        try:
            duration_days(value, "until")
        except UsageError:
            return f"无法识别「{value}」：应为日期 YYYY-MM-DD 或时长如 7d、2w"
        until = until_from_duration(value, today, "until")
    if until < today:
        return f"{until} 已经过去（今天是 {today}）"
    return until


def matchers_for(record: Any, scope: str, with_level: bool) -> dict[str, str]:
    """The matcher a scope makes of an alert (fields it lacks are left out)."""
    fields = {
        "rule": str(record.rule or ""),
        "unit": str(record.unit or ""),
        "item": str(record.item_id or ""),
    }
    wanted = {k: fields[k] for k in SCOPES[scope][1] if fields[k]}
    if with_level:
        wanted["level"] = str(record.level_name)
    return wanted


class SilenceDialog(ModalScreen[SilenceRequest | None]):
    """Enter in any field confirms (and is refused without a comment); Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "取消", id="silence.cancel"),
    ]

    def __init__(self, record: Any, author: str, today: date) -> None:
        super().__init__()
        self.record = record
        self.author = author
        self.today = today

    def compose(self) -> ComposeResult:
        r = self.record
        targets = {
            "alert": f"{rule_label(str(r.rule))} · [{r.item_id}] {r.item_name}",
            "rule-unit": f"{rule_label(str(r.rule))} · {r.unit}",
            "rule": f"{rule_label(str(r.rule))} · 所有单位",
            "unit": f"{r.unit} · 所有规则",
        }
        with Vertical(id="silence-dialog", classes="alert-dialog"):
            yield Label("静默预警 Silence alerts", classes="alert-dialog-title")
            yield Label(str(r.message), classes="alert-dialog-message", markup=False)
            yield Label("范围 scope（Tab 到此，↑↓ 与 Enter 选定）", classes="dim")
            with RadioSet(id="silence-scope"):
                for scope, (label, _fields) in SCOPES.items():
                    if scope in ("rule-unit", "unit") and not r.unit:
                        continue
                    yield RadioButton(
                        f"{label}：{targets[scope]}", value=scope == "alert", id=f"scope-{scope}"
                    )
            yield Checkbox(f"仅限当前级别 only level {r.level_label}", id="silence-level")
            with Horizontal(classes="alert-dialog-field"):
                yield Label("静默至 until", classes="alert-dialog-label")
                yield Input(DEFAULT_FOR, placeholder="7d、2w 或 YYYY-MM-DD", id="silence-until")
            with Horizontal(classes="alert-dialog-field"):
                yield Label("静默人 by", classes="alert-dialog-label")
                yield Input(self.author, id="silence-by")
            with Horizontal(classes="alert-dialog-field"):
                yield Label("原因 why（必填）", classes="alert-dialog-label")
                yield Input(placeholder="为什么静默 required", id="silence-comment")
            yield Label("", id="silence-error", classes="alert-dialog-error", markup=False)
            yield Label("Enter 静默  Esc 取消", classes="dim")

    def on_mount(self) -> None:
        self.query_one("#silence-comment", Input).focus()  # the one field without a default

    def scope(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return (pressed.id or "scope-alert").removeprefix("scope-") if pressed else "alert"

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        # A scope chosen (Enter on it): back to the comment, where Enter confirms.
        event.stop()
        self.query_one("#silence-comment", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.confirm()

    def confirm(self) -> None:
        error = self.query_one("#silence-error", Label)
        until = parse_until(self.query_one("#silence-until", Input).value, self.today)
        by = self.query_one("#silence-by", Input).value.strip()
        comment = self.query_one("#silence-comment", Input).value.strip()
        problem, field_id = "", ""
        if isinstance(until, str):
            problem, field_id = f"静默至：{until}", "#silence-until"
        elif not by:
            problem, field_id = "必须写明静默人 who silences is required", "#silence-by"
        elif not comment:
            problem, field_id = "必须写明原因 a comment is required", "#silence-comment"
        if problem or isinstance(until, str):
            error.update(problem)
            self.query_one(field_id, Input).focus()
            return
        scope = self.scope()
        with_level = self.query_one("#silence-level", Checkbox).value
        matchers = matchers_for(self.record, scope, with_level)
        one = scope == "alert" and not with_level
        self.dismiss(
            SilenceRequest(matchers, until, by, comment, key=str(self.record.key) if one else "", scope=scope)
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

"""Alerts (design §5), pure: rules, conditions, events, and the fire / repeat /
resolve / acknowledge / silence state machine as functions over a record and `now`.

No I/O here: the engine (`dashboard.alerting`) reads and writes the records and
delivers the events; the built-in rules live in `dashboard.core.alert_rules`.
"""

from __future__ import annotations

import calendar
import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from dashboard.core.items import Evaluated
from dashboard.core.parse import format_percent

Severity = Literal["info", "warning", "critical"]
SEVERITY_LABELS: dict[str, str] = {"info": "提示", "warning": "警告", "critical": "严重"}
EventKind = Literal["fired", "repeat", "escalated", "resolved"]
KIND_LABELS: dict[str, str] = {
    "fired": "预警",
    "repeat": "仍未解除",
    "escalated": "升级",
    "resolved": "已解除",
}
# The escalation ladder (issue 14): an open alert climbs 提醒 → 预警 → 督办 as it stays open.
LEVELS: tuple[str, ...] = ("remind", "warn", "supervise")
LEVEL_LABELS: dict[str, str] = {"remind": "提醒", "warn": "预警", "supervise": "督办"}
DEFAULT_LADDER: tuple[int, ...] = (0, 7, 14)  # days open (by the data's as-of dates) to reach each level
AlertStateName = Literal["open", "acknowledged", "silenced", "resolved"]
STATE_LABELS: dict[str, str] = {
    "open": "未处理",
    "acknowledged": "已确认",
    "silenced": "已静默",
    "resolved": "已解除",
}
# States in which the condition still holds (everything but resolved).
ACTIVE_STATES: tuple[str, ...] = ("open", "acknowledged", "silenced")


# -- what a rule sees and says ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A source as the source-failing rule sees it."""

    name: str
    ok: bool | None  # None: not tried yet
    error: str = ""
    last_success: datetime | None = None
    refresh: float = 300.0  # seconds
    refused: bool = False  # its last fetch was refused (shrink guard): alert at once
    failures: int = 0  # consecutive failed fetches since the last good one


@dataclass(frozen=True, slots=True)
class AlertContext:
    """Everything a rule may look at. `history` maps an item id to its (date, ratio)
    observations, oldest first; `today` is the date `stalled` counts days to."""

    now: datetime
    as_of: date
    expected: float
    evaluated: Sequence[Evaluated] = ()
    sources: Sequence[SourceInfo] = ()
    history: Mapping[str, Sequence[tuple[date, float]]] = field(default_factory=dict)
    today: date | None = None
    # The snapshot's serial number, and the ids of the items that are new, changed or gone
    # since the snapshot before it (None: take everything as changed).
    serial: int | None = None
    changed: frozenset[str] | None = None

    @property
    def day(self) -> date:
        return self.today or self.now.date()


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """A rule's effective settings: the rule's defaults overlaid by `[alerts.rules.<name>]`."""

    enabled: bool = True
    severity: str = "warning"
    repeat: timedelta | None = None  # None: never repeat while the condition holds
    params: Mapping[str, Any] = field(default_factory=dict)
    # Days open at which each level of LEVELS is reached (first 0; shorter caps the ladder).
    ladder: tuple[int, ...] = DEFAULT_LADDER
    after_bulletins: int = 0  # every N consecutive bulletins behind climb one level; 0: off
    relapse_window: int | None = None  # days after resolving in which a relapse resumes its level


@dataclass(frozen=True, slots=True)
class Condition:
    """One subject (an item, or a source) for which a rule's condition holds now."""

    rule: str
    subject: str  # item id, or the source name for source rules
    message: str
    item_id: str = ""
    item_name: str = ""
    unit: str = ""
    figures: Mapping[str, Any] = field(default_factory=dict)
    severity: str | None = None  # None: the rule's configured severity

    @property
    def key(self) -> str:
        return alert_key(self.rule, self.subject)


CheckFn = Callable[[AlertContext, RuleConfig], Iterable[Condition]]


@dataclass(frozen=True, slots=True)
class Rule:
    """An alert rule. `params` are its tunable settings with their defaults (the
    config must give the same type); `help` describes each for error messages.
    `repeat` is a duration such as `"1d"`, or `""` for never."""

    name: str
    label: str
    check: CheckFn
    severity: str = "warning"
    repeat: str = "1d"
    enabled: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)
    help: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    # True when `check` looks at each evaluated item on its own (with the context's as-of
    # date and expected progress, nothing else): the engine then checks only the items
    # that changed since the snapshot it checked before, and keeps the others' conditions.
    per_item: bool = False


def alert_key(rule: str, subject: str) -> str:
    return f"{rule}:{subject}"


# -- records and events -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """The persisted state of one alert (rule + subject) across runs."""

    key: str
    rule: str
    item_id: str
    item_name: str
    unit: str
    severity: str
    state: str  # AlertStateName
    message: str
    first_fired: datetime
    last_sent: datetime | None = None  # last fired/repeat event of this occurrence
    resolved_at: datetime | None = None
    silenced_until: date | None = None
    figures: Mapping[str, Any] = field(default_factory=dict)
    acknowledged_at: datetime | None = None
    # Who acknowledged or silenced it, and why (留痕); empty for older rows.
    acknowledged_by: str = ""
    comment: str = ""
    # The ladder: the level reached (index into LEVELS), the as-of date this occurrence
    # opened on, the last as-of date it held on, how many distinct as-of dates in a row it
    # held on, and the as-of date it resolved on (for a relapse). None: before the ladder.
    level: int = 0
    opened_as_of: date | None = None
    last_as_of: date | None = None
    bulletins: int = 0
    resolved_as_of: date | None = None

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def level_name(self) -> str:
        return LEVELS[min(max(self.level, 0), len(LEVELS) - 1)]

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level_name]

    def effective_state(self, today: date) -> str:
        """A silence that has run out reads as open, before the next run notices it."""
        if self.state == "silenced" and not is_silenced(self, today):
            return "open"
        return self.state


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """What sinks deliver: one firing, repeat or resolution of an alert."""

    id: str
    key: str
    rule: str
    item_id: str
    severity: str
    kind: str  # EventKind
    message: str
    figures: Mapping[str, Any]
    at: datetime
    item_name: str = ""
    unit: str = ""
    level: str = ""  # a name of LEVELS; "" for events from before the ladder

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(timespec="seconds"),
            "kind": self.kind,
            "key": self.key,
            "rule": self.rule,
            "severity": self.severity,
            "item_id": self.item_id,
            "item_name": self.item_name,
            "unit": self.unit,
            "message": self.message,
            "figures": dict(self.figures),
            "level": self.level,
            "level_label": LEVEL_LABELS.get(self.level, ""),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertEvent:
        return cls(
            id=str(data["id"]),
            key=str(data["key"]),
            rule=str(data["rule"]),
            item_id=str(data.get("item_id", "")),
            severity=str(data["severity"]),
            kind=str(data["kind"]),
            message=str(data["message"]),
            figures=dict(data.get("figures") or {}),
            at=datetime.fromisoformat(str(data["at"])),
            item_name=str(data.get("item_name", "")),
            unit=str(data.get("unit", "")),
            level=str(data.get("level", "")),
        )


def event_id(key: str, kind: str, at: datetime) -> str:
    """Stable per (key, kind, time): the same decision always has the same id."""
    return hashlib.sha1(f"{key}|{kind}|{at.isoformat()}".encode()).hexdigest()[:20]


def _event(record: AlertRecord, kind: str, now: datetime, message: str) -> AlertEvent:
    return AlertEvent(
        id=event_id(record.key, kind, now),
        key=record.key,
        rule=record.rule,
        item_id=record.item_id,
        severity=record.severity,
        kind=kind,
        message=message,
        figures=dict(record.figures),
        at=now,
        item_name=record.item_name,
        unit=record.unit,
        level=record.level_name,
    )


# -- the state machine ----------------------------------------------------------------


def is_silenced(record: AlertRecord, today: date) -> bool:
    """Silenced through the `silenced_until` day itself (inclusive)."""
    return record.silenced_until is not None and today <= record.silenced_until


def step(
    record: AlertRecord | None,
    condition: Condition | None,
    config: RuleConfig,
    now: datetime,
    *,
    resolve_figures: Mapping[str, Any] | None = None,
    resolve_message: str = "",
    as_of: date | None = None,
) -> tuple[AlertRecord | None, AlertEvent | None]:
    """One evaluation of one alert key. Returns the new record (None: nothing to
    keep) and the event to deliver, if any.

    - condition first holds (no record, or a resolved one): fire, unless silenced; at
      提醒, or at the level it had when it resolved within `config.relapse_window`;
    - holds and open: climb the ladder (`escalated`) when the data's `as_of` has reached
      the next level's day (or bulletin count), else repeat when `config.repeat` has
      passed since the last send; without `as_of` nothing climbs;
    - holds and acknowledged (the level is held), or silenced until a date not yet
      passed: stay quiet; a silence that ran out turns back into open and fires (or
      climbs, or repeats);
    - clears: resolve once, with a `resolved` event only if this occurrence was sent.
    """
    today = now.date()
    if condition is None:
        if record is None or record.state == "resolved":
            return record, None
        figures = {**record.figures, **(resolve_figures or {})}
        resolved = replace(record, state="resolved", resolved_at=now, figures=figures, resolved_as_of=as_of)
        if record.last_sent is None:
            return resolved, None
        message = resolve_message or f"已解除：{record.message}"
        return replace(resolved, message=message), _event(resolved, "resolved", now, message)

    severity = condition.severity or config.severity
    if record is None or record.state == "resolved":
        silenced_until = record.silenced_until if record else None
        quiet = silenced_until is not None and today <= silenced_until
        resumed = _relapse_level(record, config, as_of)
        # A relapse resumes its level's clock: the next level comes after the rest of its days.
        opened = None if as_of is None else as_of - timedelta(days=_ladder_day(config, resumed))
        bulletins = 0 if as_of is None else max(1, resumed * config.after_bulletins)
        fresh = AlertRecord(
            key=condition.key,
            rule=condition.rule,
            item_id=condition.item_id,
            item_name=condition.item_name,
            unit=condition.unit,
            severity=severity,
            state="silenced" if quiet else "open",
            message=condition.message,
            first_fired=now,
            last_sent=None if quiet else now,
            figures=dict(condition.figures),
            silenced_until=silenced_until if quiet else None,
            level=_climb(config, as_of, opened, bulletins, resumed),
            opened_as_of=opened,
            last_as_of=as_of,
            bulletins=bulletins,
        )
        if quiet:
            return fresh, None
        return fresh, _event(fresh, "fired", now, level_message(fresh))

    current = replace(
        record,
        severity=severity,
        message=condition.message,
        figures=dict(condition.figures),
        item_name=condition.item_name or record.item_name,
        unit=condition.unit or record.unit,
    )
    if as_of is not None:  # the bulletins it held on are facts of the data, whatever its state
        if current.opened_as_of is None:  # a row from before the ladder: count from this bulletin
            current = replace(
                current, opened_as_of=as_of, last_as_of=as_of, bulletins=max(1, current.bulletins)
            )
        elif current.last_as_of is None or as_of > current.last_as_of:
            current = replace(current, last_as_of=as_of, bulletins=current.bulletins + 1)
    if current.state == "acknowledged":
        return current, None
    if current.state == "silenced":
        if is_silenced(current, today):
            return current, None
        current = replace(current, state="open", silenced_until=None)
        if current.last_sent is None:  # silenced before it was ever sent: this is its first send
            current = replace(current, last_sent=now, level=reached_level(current, config, as_of))
            return current, _event(current, "fired", now, level_message(current))
    level = reached_level(current, config, as_of)
    if level > current.level:  # one event per climb, at the level reached (a repeat is folded in)
        current = replace(current, level=level, last_sent=now)
        return current, _event(current, "escalated", now, level_message(current, climbed=True))
    due = config.repeat is not None and (
        current.last_sent is None or now - current.last_sent >= config.repeat
    )
    if not due:
        return current, None
    current = replace(current, last_sent=now)
    return current, _event(current, "repeat", now, f"仍未解除：{level_message(current)}")


def _ladder_day(config: RuleConfig, level: int) -> int:
    ladder = config.ladder or (0,)
    return ladder[min(level, len(ladder) - 1)]


def _relapse_level(record: AlertRecord | None, config: RuleConfig, as_of: date | None) -> int:
    """The level a recurrence resumes: the one it had, when it resolved (by as-of dates)
    no more than `relapse_window` days before; else the first."""
    if record is None or as_of is None or config.relapse_window is None or record.resolved_as_of is None:
        return 0
    if not 0 <= (as_of - record.resolved_as_of).days <= config.relapse_window:
        return 0
    return min(record.level, max(len(config.ladder) - 1, 0))


def reached_level(record: AlertRecord, config: RuleConfig, as_of: date | None) -> int:
    """The level an open alert has reached by `as_of`: the highest whose day in the
    ladder has come (days since `opened_as_of`) or, with `after_bulletins = N`, one level
    per N consecutive bulletins held on; never lower than the level it has."""
    return _climb(config, as_of, record.opened_as_of, record.bulletins, record.level)


def _climb(config: RuleConfig, as_of: date | None, opened: date | None, bulletins: int, floor: int) -> int:
    if as_of is None or opened is None:
        return floor
    top = max(len(config.ladder) - 1, 0)
    by_days = bisect_right(config.ladder, (as_of - opened).days) - 1  # the ladder never decreases
    by_bulletins = bulletins // config.after_bulletins if config.after_bulletins > 0 else 0
    return max(floor, min(top, max(by_days, by_bulletins, 0)))


def level_message(record: AlertRecord, *, climbed: bool = False) -> str:
    """The message with its level in front when above the first (【预警】…, 【督办】…);
    a climb says how long it has held, by the data's as-of dates."""
    if record.level <= 0:
        return record.message
    text = f"【{record.level_label}】{record.message}"
    if climbed and record.opened_as_of is not None and record.last_as_of is not None:
        days = (record.last_as_of - record.opened_as_of).days
        text += f"（已持续 {days} 天，连续 {record.bulletins} 期通报）"
    return text


def acknowledge(record: AlertRecord, now: datetime) -> AlertRecord | None:
    """Acknowledged alerts stay quiet until they resolve. None: nothing to acknowledge."""
    if record.state == "resolved":
        return None
    return replace(record, state="acknowledged", acknowledged_at=now)


def silence(record: AlertRecord, until: date, now: datetime) -> AlertRecord:
    """Quiet through `until`; the silence outlives a resolution, so a recurrence
    before that date stays quiet too."""
    state = record.state if record.state == "resolved" else "silenced"
    return replace(record, state=state, silenced_until=until, acknowledged_at=now)


# -- messages ----------------------------------------------------------------------------


def item_figures(e: Evaluated) -> dict[str, Any]:
    """ratio, expected and gap (fractions; gap = expected - ratio) of an evaluated item."""
    return {
        "ratio": None if e.item.ratio is None else round(e.item.ratio, 6),
        "expected": round(e.expected, 6),
        "gap": None if e.gap is None else round(e.gap, 6),
    }


def describe_item(e: Evaluated) -> str:
    return f"[{e.item.id}] {e.item.name}（{e.item.unit or '牵头单位未填'}）"


GONE_PHRASE = "项目不再出现在数据中"


def gone_message(record: AlertRecord) -> str:
    """The resolve text of an item that left the data: it did not catch up, it is gone."""
    who = f"[{record.item_id}] {record.item_name}" if record.item_name else f"[{record.item_id}]"
    unit = f"（{record.unit}）" if record.unit else ""
    return f"已解除：{who}{unit}{GONE_PHRASE} no longer in the data（原预警：{record.message}）"


def progress_phrase(figures: Mapping[str, Any]) -> str:
    """完成 32.0%，序时进度 75.0%，落后 43.0 个百分点."""
    ratio, expected, gap = figures.get("ratio"), figures.get("expected"), figures.get("gap")
    parts = [f"完成 {format_percent(ratio)}"]
    if expected is not None:
        parts.append(f"序时进度 {format_percent(expected)}")
    if isinstance(gap, (int, float)):
        parts.append(gap_phrase(gap))
    return "，".join(parts)


def gap_phrase(gap: float) -> str:
    """落后 43.0 个百分点 (gap = expected - ratio), or 超出 when ahead."""
    return f"落后 {gap * 100:.1f} 个百分点" if gap > 0 else f"超出 {-gap * 100:.1f} 个百分点"


def event_title(event: AlertEvent, label: str = "") -> str:
    """A short title for robots: 【严重】严重滞后 · 公安局交警大队."""
    what = label or event.rule
    # A firing or a climb is named by its level (提醒 / 预警 / 督办) once the ladder knows it.
    kind = LEVEL_LABELS.get(event.level, "") if event.kind in ("fired", "escalated") else ""
    kind = kind or KIND_LABELS.get(event.kind, "")
    head = f"【{SEVERITY_LABELS.get(event.severity, event.severity)}】{kind}·{what}"
    return f"{head} · {event.unit}" if event.unit else head


def event_markdown(event: AlertEvent, label: str = "", *, heading: bool = True, footer_tag: str = "") -> str:
    """The message a chat robot shows: item, lead unit, ratio, expected and gap.
    `heading`: start with a `###` title (robots whose card has its own title omit it);
    `footer_tag`: an HTML-ish tag name wrapping the footer (企业微信's `font`)."""
    lines = [f"### {event_title(event, label)}"] if heading else []
    if event.item_id:
        lines.append(f"**项目**：[{event.item_id}] {event.item_name}")
        lines.append(f"**牵头单位**：{event.unit or '—'}")
    elif event.item_name:
        lines.append(f"**数据源**：{event.item_name}")
    figures = event.figures
    if "ratio" in figures:
        lines.append(f"**完成比例**：{format_percent(figures.get('ratio'))}")
        lines.append(f"**序时进度**：{format_percent(figures.get('expected'))}")
        gap = figures.get("gap")
        if isinstance(gap, (int, float)):
            lines.append(f"**差距**：{gap_phrase(gap)}")
    lines.append(f"> {event.message}")
    footer = f"{event.at:%Y-%m-%d %H:%M} · {event.key}"
    lines.append(f'<{footer_tag} color="comment">{footer}</{footer_tag}>' if footer_tag else footer)
    return "\n\n".join(lines)


def last_full_month(as_of: date) -> tuple[int, int]:
    """(year, month) of the last month completed by the end of `as_of`: September
    on 30 Sep, August on 29 Sep."""
    if as_of.day == calendar.monthrange(as_of.year, as_of.month)[1]:
        return as_of.year, as_of.month
    first = as_of.replace(day=1) - timedelta(days=1)
    return first.year, first.month

"""Message templates and @-mentions (issue 14): Jinja2, sandboxed, for the robots'
and the webhook's message text.

Where rendering happens: in the sink. The alert engine hands a sink that offers
`deliver_message(events, message)` a `Message`: the template of the event's route (if it
has one), the route's @-mentions and the 督办 cases' deadlines. The sink takes the route's
template, else its own (`template` / `template_file` in `[[sinks]]`), else its type's
default; renders the body; and adds what a template may not drop: the footer of event
ids (so a re-sent message stays dedup-able per event), the robot's mention syntax and its
size limit. Sinks with only `deliver(event)` (third-party ones) are called as before.

A template is checked at start by rendering it against a sample (item 45 at 督办, alone
and in a group): a syntax error, an unknown filter or an undefined variable is a
ConfigError naming the file, the key and the template's line. A render that still fails
at delivery (an event unlike the sample) falls back to the type's default template, and
the sink's last error says so: the event is never lost to its template.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dashboard.contracts import ConfigError
from dashboard.core.alert_rules import rule_label
from dashboard.core.alerts import (
    KIND_LABELS,
    LEVEL_LABELS,
    LEVELS,
    SEVERITY_LABELS,
    AlertEvent,
    event_title,
    gap_phrase,
)
from dashboard.core.parse import format_percent
from dashboard.template_defaults import DEFAULT_SOURCES, SAMPLE_DEADLINES, sample_events

if TYPE_CHECKING:  # Jinja2 is imported when a template is first compiled (issue 17: start-up)
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment

TEMPLATE_KEYS = {
    "template": '消息模板（Jinja2），如 template = """【{{ event.level_label }}】{{ unit }}…"""',
    "template_file": "消息模板文件，相对于配置文件所在目录",
}
MENTION_KEYS = {
    "mention_mobiles": '要 @ 的手机号列表，如 ["13800000000"]',
    "mention_users": "要 @ 的用户 id 列表（企业微信 userid、钉钉 userId、飞书 open_id）",
}
_MOBILE_RE = re.compile(r"^\+?\d[\d-]{4,19}$")
_USER_RE = re.compile(r"^[^\s<>@\"']{1,64}$")
# Mention markup a data field could carry (企业微信 <@id>, 飞书 <at ...>): defused, so
# only the config's mentions ever notify anyone.
_MARKUP_RE = re.compile(r"<(?=@|at[\s>])", re.IGNORECASE)

ErrFn = Callable[[str, str, str], ConfigError]


@dataclass(frozen=True, slots=True)
class Mentions:
    """Who a message @-mentions: from the route's or the sink's config, never the data."""

    mobiles: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    def __or__(self, other: Mentions) -> Mentions:
        return Mentions(
            tuple(dict.fromkeys((*self.mobiles, *other.mobiles))),
            tuple(dict.fromkeys((*self.users, *other.users))),
        )

    def __bool__(self) -> bool:
        return bool(self.mobiles or self.users)


NO_MENTIONS = Mentions()


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A compiled template and where it came from (for errors)."""

    where: str  # the config key: routes[2].template, sinks[0].template_file, or default:markdown
    compiled: Template
    uses_mentions: bool  # the template places `mentions` itself; otherwise the sink appends them


@dataclass(frozen=True, slots=True)
class Message:
    """What the alert engine hands a templated sink with the events of one message."""

    template: MessageTemplate | None = None  # the route's; None: the sink's own or its default
    mentions: Mentions = NO_MENTIONS
    deadlines: Mapping[str, date] = field(default_factory=dict)  # alert key → its 督办 case's deadline


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str  # the body, mentions included when the template placed them
    note: str = ""  # why the default template was used instead (for the sink's last error)
    mentions_placed: bool = False


# -- the environment and the default templates ------------------------------------------


def _percent(value: object) -> str:
    return format_percent(value) if isinstance(value, (int, float)) else "—"


def _clip(value: object, length: int = 20) -> str:
    text = str(value)
    return text if len(text) <= length else text[: max(length - 1, 0)] + "…"


@cache
def _env() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    # Markdown, not HTML: no autoescape (the data's text is cleaned when it is read).
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["percent"] = _percent
    env.filters["clip"] = _clip
    return env


def compile_template(
    source: str, where: str, *, file: Path | str | None = None, label: str = ""
) -> MessageTemplate:
    """Compile and try `source` against the sample; ConfigError (key `where`) naming the
    template's line on a syntax error, unknown filter or undefined variable. `label` names
    a template file in the message."""
    from jinja2 import TemplateAssertionError, TemplateSyntaxError, meta

    env = _env()
    name = label or where
    try:
        code = env.compile(source, name=name, filename=name)
        compiled = env.template_class.from_code(env, code, env.make_globals(None), None)
        uses = "mentions" in meta.find_undeclared_variables(env.parse(source))
    except TemplateSyntaxError as exc:
        kind = "无法使用 not usable" if isinstance(exc, TemplateAssertionError) else "语法错误 syntax error"
        raise _template_error(where, name, exc.lineno, f"{kind}: {exc.message or exc}", file) from None
    template = MessageTemplate(where, compiled, uses)
    for events in sample_events():
        try:
            compiled.render(context(events, sample_message(), title="", mentions=""))
        except Exception as exc:  # any failure of a user's template is a config error
            raise _template_error(where, name, _template_line(exc, name), _describe(exc), file) from None
    return template


def _template_error(
    where: str, name: str, line: int | None, message: str, file: Path | str | None
) -> ConfigError:
    at = f"第 {line} 行 line {line}" if line else "行号不明"
    shown = f"模板 {name} " if name != where else "模板"
    return ConfigError(where, f"{shown}{at}：{message}", expected="可渲染的 Jinja2 模板", file=file)


def _template_line(exc: BaseException, name: str) -> int | None:
    """The template line a render failed on (Jinja rewrites tracebacks to the template)."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == name:
            line = lineno
    return line


def _describe(exc: BaseException) -> str:
    from jinja2 import TemplateError

    if isinstance(exc, TemplateError):
        return f"{type(exc).__name__}: {exc.message or exc}"
    return f"{type(exc).__name__}: {exc}"


@cache
def default_template(kind: str) -> MessageTemplate:
    """The built-in template for `kind` (`markdown` or `card`)."""
    return compile_template(DEFAULT_SOURCES[kind], f"default:{kind}")


# -- the context -------------------------------------------------------------------------


def event_context(event: AlertEvent, deadline: date | None = None) -> dict[str, Any]:
    """One event as a template sees it: its fields plus labels and figures (documented in
    docs/workflow.md)."""
    data = event.to_dict()
    for key in ("item_name", "unit", "message"):
        data[key] = _MARKUP_RE.sub("<\u200b", str(data[key]))
    figures = event.figures
    ratio, expected, gap = (_number(figures.get(k)) for k in ("ratio", "expected", "gap"))
    if deadline is None and isinstance(figures.get("deadline"), str):
        try:
            deadline = date.fromisoformat(figures["deadline"])
        except ValueError:
            deadline = None
    data.update(
        rule_label=rule_label(event.rule),
        level_label=LEVEL_LABELS.get(event.level, ""),
        severity_label=SEVERITY_LABELS.get(event.severity, event.severity),
        kind_label=KIND_LABELS.get(event.kind, event.kind),
        ratio=ratio,
        expected=expected,
        gap=gap,
        points_behind=_points(gap),
        gap_text=gap_phrase(gap) if gap is not None else "",
        deadline=f"{deadline.month}月{deadline.day}日" if deadline else "",
        deadline_date=deadline.isoformat() if deadline else "",
    )
    return data


def context(events: Sequence[AlertEvent], message: Message, *, title: str, mentions: str) -> dict[str, Any]:
    """The whole template context: `events`, `event` (the first), `unit`, `level_label`,
    `count`, `mentions` (the robot's markup) and `title`."""
    rows = [event_context(e, message.deadlines.get(e.key)) for e in events]
    levels = [e.level for e in events if e.level in LEVELS]
    top = max(levels, key=LEVELS.index) if levels else ""
    units = sorted({e.unit for e in events if e.unit})
    return {
        "events": rows,
        "event": rows[0],
        "unit": units[0] if len(units) == 1 else "、".join(units),
        "level_label": LEVEL_LABELS.get(top, ""),
        "count": len(rows),
        "mentions": mentions,
        "title": title,
    }


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _points(gap: float | None) -> float | int | None:
    """0.43 → 43; 0.435 → 43.5 (percentage points, as the bulletin writes them)."""
    if gap is None:
        return None
    points = round(gap * 100, 1)
    return int(points) if points == int(points) else points


# -- rendering ---------------------------------------------------------------------------


def message_title(events: Sequence[AlertEvent]) -> str:
    """One event's title (【严重】督办·严重滞后 · 公安局交警大队), or a group's
    (【严重】预警 · 公安局交警大队 · 3 项: the highest severity and level)."""
    if len(events) == 1:
        return event_title(events[0], rule_label(events[0].rule))
    order = ("info", "warning", "critical")
    severity = max((e.severity for e in events), key=lambda s: order.index(s) if s in order else -1)
    levels = [e.level for e in events if e.level in LEVELS]
    level = LEVEL_LABELS.get(max(levels, key=LEVELS.index), "") if levels else ""
    units = sorted({e.unit for e in events if e.unit})
    head = f"【{SEVERITY_LABELS.get(severity, severity)}】{level or '预警'}"
    return " · ".join([head, *units[:1], f"{len(events)} 项"])


def footer(events: Sequence[AlertEvent]) -> str:
    """What no template may drop: one event's key, or every event's id of a group."""
    if len(events) == 1:
        return f"{events[0].at:%Y-%m-%d %H:%M} · {events[0].key}"
    return f"{events[0].at:%Y-%m-%d %H:%M} · 事件 " + " ".join(e.id for e in events)


def render(
    events: Sequence[AlertEvent],
    message: Message,
    own: MessageTemplate | None,
    default_kind: str,
    *,
    mentions: str = "",
    title: str | None = None,
) -> Rendered:
    """The message body for `events`: the route's template, else `own`, else the default
    of `default_kind`; a failing template falls back to the default, with a note."""
    default = default_template(default_kind)
    chosen = message.template or own or default
    ctx = context(events, message, title=message_title(events) if title is None else title, mentions=mentions)
    try:
        return Rendered(_tidy(chosen.compiled.render(ctx)), mentions_placed=chosen.uses_mentions)
    except Exception as exc:  # a user's template must not lose the event
        if chosen is default:
            raise
        name = chosen.compiled.name or chosen.where
        line = _template_line(exc, name)
        note = (
            f"模板 {chosen.where}{f' 第 {line} 行' if line else ''}渲染失败，已改用默认模板"
            f" template failed, default used: {_describe(exc)}"
        )
        return Rendered(_tidy(default.compiled.render(ctx)), note=note)


def _tidy(text: str) -> str:
    """No runs of blank lines or trailing spaces left by optional parts of a template."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def with_mentions(rendered: Rendered, markup: str) -> str:
    """The body with the robot's mention markup appended, unless the template placed it."""
    if not markup or rendered.mentions_placed:
        return rendered.text
    return f"{rendered.text}\n\n{markup}"


# -- config ------------------------------------------------------------------------------


def template_option(
    table: Mapping[str, Any], prefix: str, base_dir: Path, file: Path | str | None
) -> MessageTemplate | None:
    """`template` (inline) or `template_file` (relative to the config's folder) of a route
    or a sink, compiled and tried; None when neither is set."""
    inline, path = table.get("template"), table.get("template_file")
    if inline is not None and path is not None:
        raise ConfigError(f"{prefix}.template_file", "template 与 template_file 只能写一个", file=file)
    if inline is not None:
        if not isinstance(inline, str) or not inline.strip():
            raise ConfigError(
                f"{prefix}.template", f"应为非空字符串，实为 {inline!r}", expected="Jinja2 模板", file=file
            )
        return compile_template(inline, f"{prefix}.template", file=file)
    if path is None:
        return None
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{prefix}.template_file", f"应为文件路径，实为 {path!r}", file=file)
    target = Path(path).expanduser()
    target = target if target.is_absolute() else base_dir / target
    try:
        source = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = (
            "不是 UTF-8 文本" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or type(exc).__name__)
        )
        raise ConfigError(f"{prefix}.template_file", f"无法读取模板 {target}：{why}", file=file) from None
    return compile_template(source, f"{prefix}.template_file", file=file, label=str(target))


def mentions_option(
    table: Mapping[str, Any],
    prefix: str,
    file: Path | str | None,
    *,
    mobile_keys: Iterable[str] = ("mention_mobiles",),
) -> Mentions:
    """`mention_mobiles` (or an older alias in `mobile_keys`) and `mention_users`, checked."""
    mobiles: list[str] = []
    for key in mobile_keys:
        mobiles += _mention_list(table.get(key, []), f"{prefix}.{key}", _MOBILE_RE, "手机号", file)
    users = _mention_list(
        table.get("mention_users", []), f"{prefix}.mention_users", _USER_RE, "用户 id", file
    )
    return Mentions(tuple(dict.fromkeys(mobiles)), tuple(dict.fromkeys(users)))


def _mention_list(
    value: object, key: str, pattern: re.Pattern[str], what: str, file: Path | str | None
) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(key, f"应为字符串列表，实为 {value!r}", expected='["13800000000"]', file=file)
    for v in value:
        if not pattern.match(v):
            raise ConfigError(
                key, f"不是有效的{what}: {v!r}", expected=f"{what}，不含空格与 < > @", file=file
            )
    return list(value)


# -- the sample a template is tried against ------------------------------------------------


def sample_message() -> Message:
    return Message(deadlines=SAMPLE_DEADLINES)

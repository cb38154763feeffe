"""Routes (issue 14): which sinks receive an alert event, and how a sink groups the
events of one delivery pass. Pure: the config's `[[routes]]` tables in, decisions out.

Like Alertmanager's routing tree, flattened: the routes are tried in order; the first
that matches takes the event, and `continue = true` lets the next ones match too. An
event no route matches goes to every sink (so a config without routes is unchanged).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dashboard.contracts import ConfigError, difflib_close
from dashboard.core.alerts import LEVEL_LABELS, LEVELS, SEVERITY_LABELS, AlertEvent
from dashboard.templates import (
    MENTION_KEYS,
    NO_MENTIONS,
    TEMPLATE_KEYS,
    Mentions,
    MessageTemplate,
    mentions_option,
    template_option,
)

# The event fields a route may match on (each exact, or a list of values).
MATCH_KEYS = {
    "level": "提醒 | 预警 | 督办（或 remind | warn | supervise），可为列表",
    "rule": "规则名，如 severe、missing_update，可为列表",
    "severity": "info | warning | critical，可为列表",
    "unit": "牵头单位，如 公安局交警大队，可为列表",
    "category": "项目类别，可为列表",
    "county": "县市区（市级汇总中数据源的 county），如 湘乡市，可为列表",
}
ROUTE_KEYS = {
    **MATCH_KEYS,
    "sinks": '接收的推送名称列表，如 ["交警大队机器人"]',
    "continue": "true：匹配后继续尝试下一条路由",
    "group_by": '同一轮推送中按这些字段合并为一条消息，如 ["unit"]；[] 为不合并',
    "mute": '免打扰时段，如 ["22:00-08:00", "holidays"]（节假日：工作日历中不上班的整天）：期间事件留在待发中，时段结束后发出',
    **TEMPLATE_KEYS,
    **MENTION_KEYS,
}
GROUP_KEYS = ("unit", "rule", "level", "severity", "county")
# Chat robots get one message per lead unit per pass unless a route says otherwise; files
# (jsonl, csv) keep one line per event, and so does the generic webhook: its JSON is a
# machine's contract, so a receiver opts in to group messages with a route's group_by.
ROBOT_TYPES = frozenset({"wecom", "dingtalk", "feishu"})
DEFAULT_ROBOT_GROUP = ("unit",)
LEVEL_NAMES = {**{name: name for name in LEVELS}, **{label: name for name, label in LEVEL_LABELS.items()}}


@dataclass(frozen=True, slots=True)
class Route:
    """One `[[routes]]` table; an empty matcher set matches every event."""

    index: int
    matchers: Mapping[str, tuple[str, ...]]
    sinks: tuple[str, ...]
    cont: bool = False
    group_by: tuple[str, ...] | None = None  # None: the sink's default
    mute: tuple[tuple[int, int], ...] = ()  # quiet windows, (start, end) minutes of the day
    holidays: bool = False  # mute = ["holidays"]: the whole of every day not worked (working-day calendar)
    template: MessageTemplate | None = None  # the route's message template (issue 14)
    mentions: Mentions = NO_MENTIONS  # who its messages @-mention, from the config only

    def muted(self, at: datetime, day_off: Callable[[date], bool] | None = None) -> bool:
        """In one of the route's quiet windows at `at` (local time); a window may cross
        midnight. With `holidays`, every day `day_off` says is not worked, whole."""
        if self.holidays and day_off is not None and day_off(at.date()):
            return True
        minute = at.hour * 60 + at.minute
        return any(
            start <= minute < end if start < end else minute >= start or minute < end
            for start, end in self.mute
        )

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(fields.get(key, "") in values for key, values in self.matchers.items())

    def describe(self) -> str:
        shown = {
            k: [LEVEL_LABELS.get(x, x) if k == "level" else x for x in v] for k, v in self.matchers.items()
        }
        what = "，".join(f"{k} = {'|'.join(v)}" for k, v in shown.items()) or "（全部）"
        quiet = ",".join(
            [*(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in self.mute)]
            + ([HOLIDAYS] if self.holidays else [])
        )
        return (
            f"routes[{self.index}] {what} → {'、'.join(self.sinks) or '（无）'}"
            + (" · continue" if self.cont else "")
            + (f" · 免打扰 mute {quiet}" if quiet else "")
            + (" · 自定模板 template" if self.template is not None else "")
            + (f" · @ {len(self.mentions.mobiles) + len(self.mentions.users)} 人" if self.mentions else "")
        )


def event_fields(event: AlertEvent, category: str = "", county: str = "") -> dict[str, str]:
    """What routes and groups look at: level, rule, severity, unit, category and county
    (a city's roll-up: two counties' same-named units are two groups)."""
    return {
        "level": event.level,
        "rule": event.rule,
        "severity": event.severity,
        "unit": event.unit,
        "category": category,
        "county": county,
    }


def parse_routes(tables: object, sink_names: Sequence[str], file: Path | None = None) -> list[Route]:
    """The `[[routes]]` tables, validated; ConfigError names the file and `routes[i].key`."""
    if tables is None:
        return []
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError("routes", "应为表数组", expected="[[routes]]", file=file)
    routes: list[Route] = []
    for index, table in enumerate(tables):

        def err(key: str, message: str, expected: str = "", i: int = index) -> ConfigError:
            return ConfigError(f"routes[{i}].{key}", message, expected=expected, file=file)

        for key in table:
            if key not in ROUTE_KEYS:
                raise err(key, f"未知的键{difflib_close(key, list(ROUTE_KEYS))}", "、".join(ROUTE_KEYS))
        matchers: dict[str, tuple[str, ...]] = {}
        for key in MATCH_KEYS:
            if key not in table:
                continue
            values = _strings(table[key], lambda m, k=key: err(k, m, MATCH_KEYS[k]))
            if key == "level":
                unknown = [v for v in values if v not in LEVEL_NAMES]
                if unknown:
                    raise err(
                        key, f"没有这个级别 {unknown[0]!r}", "提醒、预警、督办（remind、warn、supervise）"
                    )
                values = tuple(LEVEL_NAMES[v] for v in values)
            if key == "severity":
                unknown = [v for v in values if v not in SEVERITY_LABELS]
                if unknown:
                    raise err(key, f"未知的严重程度 {unknown[0]!r}", "、".join(SEVERITY_LABELS))
            matchers[key] = values
        if "sinks" not in table:
            raise err("sinks", "缺少接收的推送", '如 sinks = ["机器人"]')
        sinks = _strings(table["sinks"], lambda m: err("sinks", m, "推送名称列表"))
        for name in sinks:
            if name not in sink_names:
                hint = difflib_close(name, list(sink_names))
                raise err("sinks", f"没有名为 {name!r} 的推送{hint}", "、".join(sink_names))
        cont = table.get("continue", False)
        if not isinstance(cont, bool):
            raise err("continue", f"应为 true 或 false，实为 {cont!r}", "true | false")
        group_by: tuple[str, ...] | None = None
        if "group_by" in table:
            group_by = _strings(table["group_by"], lambda m: err("group_by", m, '如 ["unit"]'), empty=True)
            for key in group_by:
                if key not in GROUP_KEYS:
                    raise err(
                        "group_by",
                        f"不能按 {key!r} 合并{difflib_close(key, list(GROUP_KEYS))}",
                        "、".join(GROUP_KEYS),
                    )
        quiet = _strings(table.get("mute", []), lambda m: err("mute", m), empty=True)
        mute = tuple(_window(w, err) for w in quiet if w != HOLIDAYS)
        template = template_option(table, f"routes[{index}]", file.parent if file else Path.cwd(), file)
        mentions = mentions_option(table, f"routes[{index}]", file)
        routes.append(
            Route(
                index,
                matchers,
                sinks,
                cont,
                group_by,
                mute,
                HOLIDAYS in quiet,
                template=template,
                mentions=mentions,
            )
        )
    return routes


HOLIDAYS = "holidays"  # a mute entry: the working-day calendar's days off
_WINDOW_RE = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def _window(text: str, err: Any) -> tuple[int, int]:
    """ "22:00-08:00" → (1320, 480) ("holidays" is not a window: see parse_routes)."""
    m = _WINDOW_RE.match(text)
    if m is None or m.group(1, 2) == m.group(3, 4):
        raise err("mute", f"无法识别的时段 {text!r}", '如 ["22:00-08:00", "holidays"]')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    return h1 * 60 + m1, h2 * 60 + m2


def _strings(value: Any, fail: Any, *, empty: bool = False) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and v for v in values) or (not values and not empty):
        raise fail(f"应为非空字符串或字符串列表，实为 {value!r}")
    return tuple(values)


def matching_routes(routes: Sequence[Route], fields: Mapping[str, str]) -> list[Route]:
    """The routes that take an event, in order: up to the first match without `continue`."""
    found: list[Route] = []
    for route in routes:
        if route.matches(fields):
            found.append(route)
            if not route.cont:
                break
    return found


def route_sinks(routes: Sequence[Route], fields: Mapping[str, str], sinks: Sequence[str]) -> list[str]:
    """The sinks (of `sinks`, in their order) that get an event: those of its matching
    routes, or every sink when no route matches."""
    found = matching_routes(routes, fields)
    if not found:
        return list(sinks)
    named = {name for route in found for name in route.sinks}
    return [name for name in sinks if name in named]


def muted(
    routes: Sequence[Route],
    fields: Mapping[str, str],
    sink: str,
    at: datetime,
    day_off: Callable[[date], bool] | None = None,
) -> bool:
    """An event waits for `sink` when every matching route that names the sink is in a
    quiet window now (an event no route matches never waits)."""
    naming = [r for r in matching_routes(routes, fields) if sink in r.sinks]
    return bool(naming) and all(r.muted(at, day_off) for r in naming)


def sink_group_by(routes: Sequence[Route], sink: str, sink_type: str) -> tuple[str, ...]:
    """How a sink groups one pass's events: the first route naming it with `group_by`,
    else by lead unit for a chat robot and not at all for a file or the generic webhook."""
    for route in routes:
        if sink in route.sinks and route.group_by is not None:
            return route.group_by
    return DEFAULT_ROBOT_GROUP if sink_type in ROBOT_TYPES else ()


def group_key(fields: Mapping[str, str], keys: Sequence[str]) -> tuple[str, ...] | None:
    """An event's group under `keys`; None when it has none of them (it goes alone)."""
    values = tuple(fields.get(k, "") for k in keys)
    return values if any(values) else None


def route_message(
    routes: Sequence[Route], sink: str, fields: Sequence[Mapping[str, str]]
) -> tuple[MessageTemplate | None, Mentions]:
    """The template and @-mentions of one message to `sink` for events with `fields`: the
    template of the first matching route naming the sink that has one (a group: its first
    event's), the mentions of every such route of every event."""
    template: MessageTemplate | None = None
    mentions = NO_MENTIONS
    for index, event in enumerate(fields):
        for route in matching_routes(routes, event):
            if sink not in route.sinks:
                continue
            if index == 0 and template is None:
                template = route.template
            mentions = mentions | route.mentions
    return template, mentions


def check_mentions(routes: Sequence[Route], sink_types: Mapping[str, str], file: Path | None = None) -> None:
    """A route may not @-mention mobiles through a 飞书 robot (it has no such mention)."""
    for route in routes:
        for name in route.sinks:
            if route.mentions.mobiles and sink_types.get(name) == "feishu":
                raise ConfigError(
                    f"routes[{route.index}].mention_mobiles",
                    f"飞书机器人 {name!r} 不能按手机号 @",
                    expected="mention_users（飞书 open_id）",
                    file=file,
                )

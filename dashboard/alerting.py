"""The alert engine (design §5): evaluates the rules on a snapshot, keeps every
alert's state and every undelivered event in the SQLite store, and delivers to
the sinks, in order, per sink.

Crash safety: the decision to fire (the new alert state, the event, and one outbox
row per sink) is committed in one transaction before anything is sent; an event
leaves a sink's outbox only after that sink has delivered it. A process killed
in between re-sends on the next run (at least once); the file sinks skip event ids
they already hold, so a file never gets the same event twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dashboard import cases, sink_quota, strict_json, workcal
from dashboard.alert_guard import MAX_PER_CYCLE, HeldEpisode, hold, mark_late, summary_event
from dashboard.alert_store import (
    SCHEMA,
    Silence,
    alert_snapshot,
    all_silences,
    append_trail,
    delivery_lock,
    dt,
    ensure_audit_schema,
    ensure_ladder_schema,
    matching_silence,
    queue_event,
    record_from_row,
    save_record,
    silence_from_row,
    stalled_history,
    trail_event,
    trail_rows,
    ts,
    upsert_sink,
)
from dashboard.config import Config, parse_duration, suggest
from dashboard.contracts import ConfigError, difflib_close
from dashboard.core import alerts as core
from dashboard.core.alert_rules import BUILTIN_RULES
from dashboard.core.alerts import (
    ACTIVE_STATES,
    AlertContext,
    AlertEvent,
    AlertRecord,
    Condition,
    Rule,
    RuleConfig,
    SourceInfo,
)
from dashboard.core.items import Evaluated
from dashboard.routes import (
    check_mentions,
    event_fields,
    group_key,
    muted,
    parse_routes,
    route_message,
    route_sinks,
    sink_group_by,
)
from dashboard.sinks import (
    COMMON_SINK_KEYS,
    DeliveryError,
    Sink,
    SinkSpec,
    SinkStatus,
    SinkType,
    default_alert_file,
    secret_from_env,
    sink_specs,
)
from dashboard.store import Store
from dashboard.templates import Message

if TYPE_CHECKING:
    from dashboard.plugins import PluginManager
    from dashboard.runtime import Snapshot

# The sink contract lives in `dashboard.sinks`; re-exported for callers of the engine.
__all__ = [
    "COMMON_SINK_KEYS",
    "AlertEngine",
    "CycleResult",
    "DeliveryError",
    "Sink",
    "SinkSpec",
    "SinkStatus",
    "SinkType",
    "default_alert_file",
    "now_local",
    "rule_configs",
    "secret_from_env",
    "sink_specs",
    "stalled_history",
]

RULE_COMMON_KEYS = {
    "enabled": "true | false",
    "severity": "info | warning | critical",
    "repeat": "如 1d、12h；0 为不重复",
    # The escalation ladder 提醒 → 预警 → 督办 (also a default for every rule under [alerts]).
    "ladder": "如 [0, 7, 14]：滞后第几天（按数据截止日期）升为 提醒、预警、督办",
    "after_bulletins": "整数：每连续 N 期通报仍满足条件升一级；0 为不按期数",
    "relapse_window": "如 30d：解除后多少天内复发恢复原级别（按数据截止日期）；0 为不恢复",
}
LADDER_KEYS = ("ladder", "after_bulletins", "relapse_window")
ALERTS_KEYS = {
    "enabled": "true | false：全部预警开关",
    "rules": "[alerts.rules.<规则名>]",
    "max_per_cycle": "正整数：每轮最多逐条推送的预警数，其余合并为一条 (default 200)",
    "case_deadline_days": "正整数：到达督办时自动立案的整改期限（截止日期后多少天）(default 10)",
    **{key: RULE_COMMON_KEYS[key] for key in LADDER_KEYS},
}
# After a permanent failure (bad key, signature, keyword) wait this long before trying again.
PERMANENT_RETRY = timedelta(hours=1)
# Events handed at once to a sink that has `deliver_batch` (the file sinks).
BATCH = 500
# Events in one group message at most (a robot message holds some 4,000 bytes, ids included).
GROUP_MAX = 30
# Delivered events are kept this long (the alert states themselves are kept for good).
KEEP_EVENTS = timedelta(days=180)


@dataclass(slots=True)
class CycleResult:
    """The events one evaluation produced."""

    fired: list[AlertEvent] = field(default_factory=list)  # kind fired or repeat
    resolved: list[AlertEvent] = field(default_factory=list)


# -- configuration ------------------------------------------------------------------------


def rule_configs(
    table: Mapping[str, Any], rules: Mapping[str, Rule], file: Path | None = None
) -> dict[str, RuleConfig]:
    """`[alerts.rules.*]` overlaid on each rule's defaults; ConfigError names the key."""

    def err(key: str, message: str, expected: str = "") -> ConfigError:
        return ConfigError(key, message, expected=expected, file=file)

    configured = table.get("rules", {})
    if not isinstance(configured, dict):
        raise err("alerts.rules", "应为表", "[alerts.rules.<规则名>]")
    for name, value in configured.items():
        if name not in rules:
            raise err(f"alerts.rules.{name}", f"未知的预警规则{suggest(name, list(rules))}", "、".join(rules))
        if not isinstance(value, dict):
            raise err(f"alerts.rules.{name}", "应为表", f"[alerts.rules.{name}]")
    defaults = _ladder_settings(table, "alerts", RuleConfig(), err)
    result: dict[str, RuleConfig] = {}
    for name, rule in rules.items():
        values = configured.get(name, {})
        prefix = f"alerts.rules.{name}"
        known = {**RULE_COMMON_KEYS, **rule.help, **{p: "" for p in rule.params}}
        for key in values:
            if key not in known:
                raise err(f"{prefix}.{key}", f"未知的键{suggest(key, list(known))}", "、".join(known))
        enabled = values.get("enabled", rule.enabled)
        if not isinstance(enabled, bool):
            raise err(f"{prefix}.enabled", f"应为 true 或 false，实为 {enabled!r}", "true | false")
        severity = values.get("severity", rule.severity)
        if severity not in core.SEVERITY_LABELS:
            raise err(f"{prefix}.severity", f"未知的级别 {severity!r}", "info | warning | critical")
        repeat = _repeat(values.get("repeat", rule.repeat), f"{prefix}.repeat", err)
        params: dict[str, Any] = {}
        for key, default in rule.params.items():
            value = values.get(key, default)
            if not _same_kind(value, default):
                kind = (
                    "整数" if isinstance(default, int) else "数字" if isinstance(default, float) else "字符串"
                )
                raise err(f"{prefix}.{key}", f"应为{kind}，实为 {value!r}", kind)
            if isinstance(value, (int, float)) and value < 0:
                raise err(f"{prefix}.{key}", f"不能为负数: {value!r}", ">= 0")
            params[key] = value
        base = RuleConfig(enabled=enabled, severity=severity, repeat=repeat, params=params)
        base = replace(base, **defaults)
        result[name] = replace(base, **_ladder_settings(values, prefix, base, err))
    return result


def _ladder_settings(
    values: Mapping[str, Any], prefix: str, base: RuleConfig, err: Callable[..., ConfigError]
) -> dict[str, Any]:
    """`ladder`, `after_bulletins` and `relapse_window` of one table over `base`'s, as
    RuleConfig fields; ConfigError names the key."""
    ladder: Any = values.get("ladder", list(base.ladder))
    after: Any = values.get("after_bulletins", base.after_bulletins)
    window: Any = values.get("relapse_window", base.relapse_window)
    hint = f"1 到 {len(core.LEVELS)} 个整数，从 0 起不减，如 [0, 7, 14]（提醒、预警、督办）"
    if (
        not isinstance(ladder, list)
        or not 1 <= len(ladder) <= len(core.LEVELS)
        or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in ladder)
        or ladder[0] != 0
        or any(b < a for a, b in pairwise(ladder))
    ):
        raise err(f"{prefix}.ladder", f"无效的升级天数 {ladder!r}", hint)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise err(f"{prefix}.after_bulletins", f"应为非负整数，实为 {after!r}", "如 2；0 为不按期数")
    if "relapse_window" in values:
        window = _days(window, f"{prefix}.relapse_window", err)
    return {"ladder": tuple(ladder), "after_bulletins": after, "relapse_window": window}


def _days(value: object, key: str, err: Callable[..., ConfigError]) -> int | None:
    """Whole days: `"30d"`, or an integer number of days; 0 or "" for off."""
    if value in (None, "", False, 0, "0", "never"):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    seconds = parse_duration(value) if isinstance(value, str) else None
    if seconds is None or seconds < 0 or seconds % 86400:
        raise err(key, f"无法识别的天数 {value!r}", "整天数，如 30d 或 30；0 为不恢复")
    return int(seconds // 86400) or None


def _repeat(value: object, key: str, err: Callable[..., ConfigError]) -> timedelta | None:
    if value in (None, "", False, 0, "0", "never"):
        return None
    seconds = parse_duration(value)
    if seconds is None or seconds < 0:
        raise err(key, f"无法识别的时间间隔 {value!r}", "如 12h、1d、7d；0 为不重复")
    return timedelta(seconds=seconds) if seconds else None


def _same_kind(value: object, default: object) -> bool:
    if isinstance(value, bool) or isinstance(default, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def now_local() -> datetime:
    return datetime.now().astimezone()


@dataclass(slots=True)
class _ConfiguredSink:
    spec: SinkSpec
    sink: Sink | None
    error: str = ""  # the plugin failed to build it
    fingerprint: str = ""


class AlertEngine:
    """Rules, state, outbox and sinks for one config and one store."""

    def __init__(self, config: Config, plugins: PluginManager | None, store: Store) -> None:
        self.config = config
        self.store = store
        # Alert tables that existed (a version row) but are gone now: their state is lost.
        lost = store.schema_version("alerts") is not None and "alert_state" in store.missing_tables(SCHEMA)
        ensure_ladder_schema(store)  # the alert tables and the ladder's columns
        ensure_audit_schema(store)  # the trail and silences (留痕)
        cases.ensure_cases_schema(store)  # 督办 cases
        alerts_table = config.alerts
        for key in alerts_table:
            if key not in ALERTS_KEYS:
                raise config.error(
                    f"alerts.{key}", f"未知的键{suggest(key, list(ALERTS_KEYS))}", "、".join(ALERTS_KEYS)
                )
        self.enabled = alerts_table.get("enabled", True)
        if not isinstance(self.enabled, bool):
            raise config.error("alerts.enabled", f"应为 true 或 false，实为 {self.enabled!r}", "true | false")
        self.rules: dict[str, Rule] = {r.name: r for r in BUILTIN_RULES}
        self.rule_errors: dict[str, str] = {}  # rule name → why its check raised last time
        # Per-item rule → (serial of the snapshot checked, its basis, item id → conditions).
        self._item_conditions: dict[str, tuple[int, tuple[Any, ...], dict[str, list[Condition]]]] = {}
        self.sink_types: dict[str, SinkType] = {}
        if plugins is not None:
            self._collect_plugins(plugins)
        self.rule_configs = rule_configs(alerts_table, self.rules, config.path)
        self.sinks = [self._build_sink(spec) for spec in sink_specs(config)]
        # A route may name a sink switched off (enabled = false): it then gets nothing.
        declared = [s.spec.name for s in self.sinks]
        declared += [
            t["name"] for t in config.sinks if isinstance(t.get("name"), str) and t["name"] not in declared
        ]
        self.routes = parse_routes(config.routes, declared, config.path)
        # mute = ["holidays"]: the working-day calendar's days off (None: no route asks).
        self.day_off = workcal.mute_days_off(self.routes, config.calendar, config.path, now_local().date())
        check_mentions(self.routes, {s.spec.name: s.spec.type for s in self.sinks}, config.path)
        self._pruned = False  # old delivered events are pruned once per process
        cap = alerts_table.get("max_per_cycle", MAX_PER_CYCLE)
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise config.error("alerts.max_per_cycle", f"应为正整数，实为 {cap!r}", ">= 1，如 200")
        self.max_per_cycle = cap
        days = alerts_table.get("case_deadline_days", cases.DEFAULT_DEADLINE_DAYS)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise config.error("alerts.case_deadline_days", f"应为正整数，实为 {days!r}", ">= 1，如 10")
        self.case_deadline_days = days
        # Decisions that could not be recorded (store unwritable), by alert key: see alert_guard.
        self.held: dict[str, HeldEpisode] = {}
        # The active alert records as of the last committed evaluation (None: none yet), to
        # seed a store recreated under a running process; and whether the next evaluation
        # adopts what holds as already sent (a store recreated with its alert state lost).
        self._known: dict[str, AlertRecord] | None = None
        self.adopt_next = lost
        self.adopted = 0  # conditions adopted as sent by the last evaluation
        self.not_pushed = 0  # events of the last evaluation left to its summary event
        self._undecodable: set[str] = set()  # alert_state keys whose rows did not decode, this evaluation

    def _collect_plugins(self, plugins: PluginManager) -> None:
        for name, rule in plugins.descriptors("dashboard_alert_rules", Rule).items():
            self.rules.setdefault(name, rule)
        self.sink_types = plugins.descriptors("dashboard_sink_types", SinkType)

    def _build_sink(self, spec: SinkSpec) -> _ConfiguredSink:
        sink_type = self.sink_types.get(spec.type)
        if sink_type is None:
            raise spec.error(
                "type",
                f"没有插件提供推送类型 {spec.type!r}{difflib_close(spec.type, list(self.sink_types))}",
                "、".join(sorted(self.sink_types)),
            )
        fingerprint = strict_json.dumps(spec.options, sort_keys=True, ensure_ascii=False, default=str)
        try:
            return _ConfiguredSink(spec, sink_type.factory(spec), fingerprint=fingerprint)
        except ConfigError:
            raise
        except Exception as exc:  # a plugin's bug marks its sink failed, nothing more
            return _ConfiguredSink(spec, None, f"插件创建推送失败: {type(exc).__name__}: {exc}", fingerprint)

    # -- evaluation ------------------------------------------------------------------
    def context(
        self,
        snap: Snapshot,
        now: datetime,
        history: Mapping[str, Sequence[tuple[date, float]]] | None = None,
        today: date | None = None,
    ) -> AlertContext:
        sources = [
            SourceInfo(s.name, s.ok, s.error, _aware(s.last_success), s.spec.refresh, s.refused, s.failures)
            for s in snap.sources
        ]
        return AlertContext(
            now=now,
            as_of=snap.as_of,
            expected=snap.expected,
            evaluated=snap.evaluated,
            sources=sources,
            history=history or {},
            today=today,
            serial=snap.serial or None,
            changed=snap.changed,
        )

    def stalled_before(self, now: datetime) -> date:
        """Items whose figures last changed on or after this day cannot be stalled yet."""
        cfg = self.rule_configs.get("stalled")
        days = int(cfg.params.get("days", 30)) if cfg is not None else 30
        return now.date() - timedelta(days=max(0, days - 1))

    def wants_history(self) -> bool:
        """Only the `stalled` rule reads the history; skip the query when it is off."""
        cfg = self.rule_configs.get("stalled")
        return self.enabled and cfg is not None and cfg.enabled

    def conditions(self, ctx: AlertContext) -> tuple[dict[str, Condition], set[str]]:
        """The conditions that hold now, and the rules that failed to say (a plugin's
        rule that raises: its alerts are left as they are, neither fired nor resolved)."""
        found: dict[str, Condition] = {}
        failed: set[str] = set()
        self.rule_errors.clear()
        subset: list[Evaluated] | None = None  # the changed items, found once for every per-item rule
        if ctx.changed is not None:
            subset = [e for e in ctx.evaluated if e.item.id in ctx.changed] if ctx.changed else []
        for name, rule in self.rules.items():
            cfg = self.rule_configs[name]
            if not cfg.enabled:
                continue
            try:
                if rule.per_item:
                    conditions = self._per_item_conditions(name, rule, ctx, cfg, subset)
                else:
                    conditions = [c for c in rule.check(ctx, cfg) if isinstance(c, Condition)]
            except Exception as exc:
                failed.add(name)
                self.rule_errors[name] = f"{type(exc).__name__}: {exc}"
                self._item_conditions.pop(name, None)
                continue
            for condition in conditions:
                if condition.rule == name:
                    found.setdefault(condition.key, condition)
        return found, failed

    def sinks_for(self, event: AlertEvent, by_id: Mapping[str, Evaluated] | None = None) -> list[str]:
        """The sinks whose outbox gets `event`, by the routes (every sink when none matches)."""
        category, county = _category(event, by_id or {}), _county(event, by_id or {})
        fields = event_fields(event, category, county)
        return route_sinks(self.routes, fields, [s.spec.name for s in self.sinks])

    def _per_item_conditions(
        self, name: str, rule: Rule, ctx: AlertContext, cfg: RuleConfig, subset: list[Evaluated] | None
    ) -> list[Condition]:
        """A per-item rule's conditions, checking only the items changed since the snapshot
        it last checked (the one just before `ctx`'s, or the same), under the same settings,
        as-of date and expected progress; otherwise every item."""
        basis = (ctx.as_of, ctx.expected, cfg)
        cached = self._item_conditions.get(name)
        by_item: dict[str, list[Condition]]
        if (
            cached is not None
            and ctx.serial is not None
            and ctx.changed is not None
            and subset is not None  # (None exactly when ctx.changed is)
            and cached[0] in (ctx.serial - 1, ctx.serial)
            and cached[1] == basis
        ):
            by_item = cached[2]
            for item_id in ctx.changed:
                by_item.pop(item_id, None)
            checked = rule.check(replace(ctx, evaluated=subset), cfg) if subset else ()
        else:
            by_item = {}
            checked = rule.check(ctx, cfg)
        for condition in checked:
            if isinstance(condition, Condition):
                by_item.setdefault(condition.item_id or condition.subject, []).append(condition)
        if ctx.serial is not None:
            self._item_conditions[name] = (ctx.serial, basis, by_item)
        return [c for conditions in by_item.values() for c in conditions]

    def evaluate(self, ctx: AlertContext) -> CycleResult:
        """Decide what fires, repeats and resolves, and commit it with the outbox rows
        of every sink in one transaction. Nothing is sent here (see `deliver`). Episodes
        held while the store could not be written are committed first, marked late; at
        most `max_per_cycle` events get outbox rows, the rest one summary event."""
        result = CycleResult()
        if not self.enabled:
            return result
        now = ctx.now
        holding, failed = self.conditions(ctx)
        by_id = {e.item.id: e for e in ctx.evaluated}
        any_failed = any(s.ok is False for s in ctx.sources)
        queued = 0
        not_pushed = 0
        adopt, adopted = self.adopt_next, 0
        known: dict[str, AlertRecord] = {}

        def push(conn: Any, event: AlertEvent) -> None:
            nonlocal queued, not_pushed
            if queued < self.max_per_cycle:
                category = _category(event, by_id)
                county = _county(event, by_id)
                queue_event(conn, event, self.sinks_for(event, by_id), category=category, county=county)
                queued += 1
            else:  # recorded in alert_state all the same: it does not fire again next cycle
                not_pushed += 1
                trail_event(conn, event, not_pushed=True)  # in the trail too (留痕), unsent
            (result.resolved if event.kind == "resolved" else result.fired).append(event)

        with self.store.transaction() as conn:
            for late in self._commit_held(conn, holding, now):
                push(conn, late)
            self._undecodable.clear()
            records = self._read_records(conn, holding)
            for key in sorted(set(holding) | set(records), key=_key_order):
                record, condition = records.get(key), holding.get(key)
                rule_name = condition.rule if condition else record.rule if record else ""
                cfg = self.rule_configs.get(rule_name)
                if cfg is None or not cfg.enabled or rule_name in failed:
                    if record is not None and record.state in ACTIVE_STATES:
                        known[key] = record
                    continue  # a rule switched off (or its plugin gone) leaves its alerts as they are
                current = by_id.get(record.item_id) if record is not None and condition is None else None
                if record is not None and record.item_id and current is None and any_failed:
                    known[key] = record
                    continue  # the item vanished because its source failed: not a resolution
                figures = core.item_figures(current) if current is not None else None
                gone = record is not None and bool(record.item_id) and condition is None and current is None
                new, event = core.step(
                    record,
                    condition,
                    cfg,
                    now,
                    resolve_figures={"gone": True} if gone else figures,
                    # An item that left the data did not catch up: say so (not "已解除：严重滞后…").
                    resolve_message=core.gone_message(record) if gone and record is not None else "",
                    as_of=ctx.as_of,  # the ladder counts days by the data's as-of dates
                )
                if new is not None and new != record:
                    save_record(conn, new)
                if new is not None and new.state in ACTIVE_STATES:
                    known[key] = new
                if event is None:
                    continue
                if record is None and event.kind == "fired" and (adopt or key in self._undecodable):
                    # Most likely sent before its state was lost (or damaged): recorded, not sent again.
                    adopted += 1
                    continue
                push(conn, event)
            # 督办 cases: opened, rectified, reopened and overdue with the alerts' own steps.
            cycle = [*result.resolved, *result.fired]
            cases.after_evaluate(conn, cycle, ctx.evaluated, ctx.as_of, now, self.case_deadline_days, push)
            if not_pushed:
                summary = summary_event(not_pushed, now)
                queue_event(conn, summary, self.sinks_for(summary, by_id))
        # Committed: what was held is recorded now, and this is what the engine knows.
        self.held.clear()
        self._known, self.adopt_next, self.adopted, self.not_pushed = known, False, adopted, not_pushed
        return result

    def _read_records(self, conn: Any, holding: Mapping[str, Condition]) -> dict[str, AlertRecord]:
        """The active alert records, and those of the keys holding now. A row that no
        longer decodes is skipped with a store note (its key then starts afresh)."""
        records: dict[str, AlertRecord] = {}
        rows = conn.execute(
            f"SELECT * FROM alert_state WHERE state IN ({','.join('?' * len(ACTIVE_STATES))})",
            ACTIVE_STATES,
        ).fetchall()
        have = {r["key"] for r in rows}  # once, not per key: 5,000 open alerts made this 4 s
        missing = [k for k in holding if k not in have]
        for chunk in _chunks(missing, 500):
            rows.extend(
                conn.execute(f"SELECT * FROM alert_state WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            )
        for row in rows:
            record = self._decode(row)
            if record is not None:
                records[record.key] = record
            else:
                self._undecodable.add(row["key"])
        return records

    def _decode(self, row: Any) -> AlertRecord | None:
        try:
            return record_from_row(row)
        except (TypeError, ValueError, KeyError) as exc:
            self.store.note_skipped(f"预警状态中有无法解码的行，已跳过 (alert_state {row['key']!r}: {exc})")
            return None

    def _commit_held(self, conn: Any, holding: Mapping[str, Condition], now: datetime) -> list[AlertEvent]:
        """The decisions of the episodes held while the store was unwritable: a fire at
        its first-seen time and, when it has cleared (and does not hold now), a resolve
        at its clearing time; saved in `conn`, their events returned marked late."""
        events: list[AlertEvent] = []
        for key in sorted(self.held, key=_key_order):
            episode = self.held[key]
            cfg = self.rule_configs.get(episode.first.rule)
            if cfg is None or not cfg.enabled:
                continue
            row = conn.execute("SELECT * FROM alert_state WHERE key = ?", (key,)).fetchone()
            record = None if row is None else self._decode(row)
            new, event = core.step(record, episode.first, cfg, episode.first_seen)
            if event is not None:
                events.append(mark_late(event, now))
            if episode.cleared_at is not None and key not in holding:
                new, event = core.step(new, None, cfg, episode.cleared_at)
                if event is not None:
                    events.append(mark_late(event, now))
            if new is not None and new != record:
                save_record(conn, new)
        return events

    def hold(self, ctx: AlertContext) -> int:
        """The store cannot be written: evaluate the (pure) conditions and keep each
        episode in memory to commit and send late (see alert_guard). Returns how many
        alert keys are held."""
        if not self.enabled:
            return len(self.held)
        holding, failed = self.conditions(ctx)
        present = {e.item.id for e in ctx.evaluated}
        any_failed = any(s.ok is False for s in ctx.sources)
        keep = {
            key
            for key, episode in self.held.items()
            if episode.first.rule in failed or (any_failed and episode.first.item_id not in present)
        }
        hold(self.held, holding, ctx.now, keep=keep)
        return len(self.held)

    def attach(self, store: Store, *, lost_state: bool) -> None:
        """Use `store` from now on (reopened, or recreated after the file was lost). With
        `lost_state`, its alert state is gone: seed it from what this engine knows, or,
        if it knows nothing yet, adopt what holds at the next evaluation."""
        self.store = store
        ensure_ladder_schema(store)  # the alert tables and the ladder's columns
        ensure_audit_schema(store)  # the trail and silences (留痕)
        cases.ensure_cases_schema(store)  # 督办 cases
        if not lost_state:
            return
        if self._known is None:
            self.adopt_next = True
            return
        with store.transaction() as conn:
            for record in self._known.values():
                save_record(conn, record)

    # -- delivery --------------------------------------------------------------------
    def deliver(self, now: datetime | None = None) -> None:
        """Send each sink's outbox in order; a sink stops at its first failure so
        nothing overtakes an undelivered event. Blocking: run it in a thread. When
        another process (the TUI, a cron `check`) is delivering from the same store,
        this one leaves the outbox to it."""
        with delivery_lock(self.store.path) as held:
            if not held:
                return
            for configured in self.sinks:
                self._deliver_sink(configured, now or now_local())
            if not self._pruned:
                self._pruned = True
                cutoff = ts((now or now_local()) - KEEP_EVENTS)
                with self.store.transaction() as conn:
                    conn.execute(
                        "DELETE FROM alert_events WHERE at < ? AND seq NOT IN (SELECT seq FROM alert_outbox)",
                        (cutoff,),
                    )

    def _deliver_sink(self, configured: _ConfiguredSink, now: datetime) -> None:
        spec = configured.spec
        status = self._sink_row(spec.name)
        if status is not None and status["next_attempt"] and status["fingerprint"] == configured.fingerprint:
            next_attempt = datetime.fromisoformat(status["next_attempt"])
            if now < next_attempt:
                return  # resting after a permanent error; a config change lifts it
        with self.store.lock:
            pending = self.store.conn.execute(
                "SELECT o.seq, e.payload FROM alert_outbox o JOIN alert_events e ON e.seq = o.seq "
                "WHERE o.sink = ? ORDER BY o.seq",
                (spec.name,),
            ).fetchall()
        if any(r.mute or r.holidays for r in self.routes):
            # Events whose routes are in a quiet window wait in the outbox for a later pass.
            pending = [r for r in pending if not self._muted(r, spec.name, now)]
        if not pending:
            return
        if configured.sink is None:
            self._sink_failed(configured, now, configured.error, permanent=True)
            return
        sink = configured.sink
        sink_quota.bind(sink, self.store, spec.name)  # per-minute quota shared by every process
        # A file sink may take a batch (one fsync for many events); a robot with
        # `deliver_group` one message per group (routes' group_by); others one by one.
        batch_fn = getattr(sink, "deliver_batch", None)
        group_fn = getattr(sink, "deliver_group", None)
        group_by = sink_group_by(self.routes, spec.name, spec.type) if callable(group_fn) else ()
        # A templated sink (the built-in robots, the webhook) gets its route's template and @-mentions.
        message_fn = getattr(sink, "deliver_message", None)
        fallback = ""  # a template that fell back this pass: kept as the sink's last error
        for rows in _passes(pending, BATCH if callable(batch_fn) else 1, group_by):
            events = [AlertEvent.from_dict(json.loads(row["payload"])) for row in rows]
            try:
                if callable(message_fn) and (len(events) == 1 or group_by):
                    fallback = message_fn(events, self._message(spec.name, rows, events)) or fallback
                elif len(events) > 1 and group_by and group_fn is not None:
                    group_fn(events)
                elif len(events) > 1 and batch_fn is not None:
                    batch_fn(events)
                else:
                    sink.deliver(events[0])
            except sink_quota.QuotaWait:
                return  # 限流等待: not a failure; the rest goes in a later pass
            except DeliveryError as exc:
                self._sink_failed(configured, now, str(exc), permanent=exc.permanent, seq=rows[0]["seq"])
                return
            except Exception as exc:  # a sink plugin's bug: keep the event, show the error
                error = f"推送插件出错: {type(exc).__name__}: {exc}"
                self._sink_failed(configured, now, error, seq=rows[0]["seq"])
                return
            with self.store.transaction() as conn:
                conn.executemany(
                    "DELETE FROM alert_outbox WHERE sink = ? AND seq = ?",
                    [(spec.name, r["seq"]) for r in rows],
                )
                upsert_sink(conn, spec, configured.fingerprint, last_ok_at=ts(now_local()), ok=True)
                if fallback:  # delivered with the default template: the sink's last error says why
                    upsert_sink(
                        conn, spec, configured.fingerprint, last_error=fallback, last_error_at=ts(now)
                    )

    def _message(self, sink: str, rows: Sequence[Any], events: Sequence[AlertEvent]) -> Message:
        """The route's template and @-mentions for one message, and the deadlines of the
        events' open 督办 cases (for 请于…前书面反馈)."""
        payloads = [json.loads(row["payload"]) for row in rows]
        fields = [
            event_fields(e, str(p.get("category", "")), str(p.get("county", "")))
            for e, p in zip(events, payloads, strict=True)
        ]
        template, mentions = route_message(self.routes, sink, fields)
        keys = [e.key for e in events if e.level == "supervise"]
        deadlines: dict[str, date] = {}
        if keys:
            with self.store.lock:
                found = self.store.conn.execute(
                    f"SELECT alert_key, deadline FROM cases WHERE state = ? AND alert_key IN "
                    f"({', '.join('?' * len(keys))}) ORDER BY id",
                    (cases.OPEN, *keys),
                ).fetchall()
            deadlines = {row["alert_key"]: date.fromisoformat(row["deadline"]) for row in found}
        return Message(template, mentions, deadlines)

    def _muted(self, row: Any, sink: str, now: datetime) -> bool:
        payload = json.loads(row["payload"])
        fields = event_fields(
            AlertEvent.from_dict(payload), str(payload.get("category", "")), str(payload.get("county", ""))
        )
        return muted(self.routes, fields, sink, now.astimezone(), self.day_off)

    def _sink_failed(
        self,
        configured: _ConfiguredSink,
        now: datetime,
        error: str,
        *,
        permanent: bool = False,
        seq: int | None = None,
    ) -> None:
        next_attempt = ts(now + PERMANENT_RETRY) if permanent else None
        with self.store.transaction() as conn:
            if seq is not None:
                conn.execute(
                    "UPDATE alert_outbox SET attempts = attempts + 1 WHERE sink = ? AND seq = ?",
                    (configured.spec.name, seq),
                )
            upsert_sink(
                conn,
                configured.spec,
                configured.fingerprint,
                last_error=error,
                last_error_at=ts(now),
                next_attempt=next_attempt,
                permanent=permanent,
            )

    def _sink_row(self, name: str) -> Any:
        with self.store.lock:
            return self.store.conn.execute("SELECT * FROM alert_sinks WHERE name = ?", (name,)).fetchone()

    # -- reading and acting, for the CLI and the UI -------------------------------------
    def records(
        self, states: Iterable[str] | None = None, today: date | None = None, item_id: str | None = None
    ) -> list[AlertRecord]:
        """Alerts, newest first; `states` filters by the effective state (a silence
        that ran out reads as open), `item_id` by item (in SQL: at 100,000 items there
        are thousands of alerts to decode otherwise)."""
        day = today or date.today()
        with self.store.lock:
            if item_id is None:
                rows = self.store.conn.execute("SELECT * FROM alert_state").fetchall()
            else:
                rows = self.store.conn.execute(
                    "SELECT * FROM alert_state WHERE item_id = ?", (item_id,)
                ).fetchall()
        records = [r for r in map(self._decode, rows) if r is not None]
        wanted = set(states) if states is not None else None
        if wanted is not None:
            records = [r for r in records if r.effective_state(day) in wanted]
        order = {"open": 0, "silenced": 1, "acknowledged": 2, "resolved": 3}
        records.sort(
            key=lambda r: (order.get(r.effective_state(day), 9), -_stamp(r.resolved_at or r.first_fired))
        )
        return records

    def record(self, key: str) -> AlertRecord | None:
        with self.store.lock:
            row = self.store.conn.execute("SELECT * FROM alert_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._decode(row)

    def acknowledge(
        self,
        key: str,
        until: date | None = None,
        now: datetime | None = None,
        *,
        by: str = "",
        comment: str = "",
    ) -> bool:
        """Acknowledge (quiet until it resolves) or, with `until`, silence through that
        date; `by` and `comment` are kept on the alert and in the trail."""
        if until is not None:
            return self.silence(key, until, now, by=by, comment=comment)
        at = now or now_local()
        return self._change(key, at, "acknowledged", lambda r: core.acknowledge(r, at), by, comment)

    def silence(
        self, key: str, until: date, now: datetime | None = None, *, by: str = "", comment: str = ""
    ) -> bool:
        """Silence one alert through `until` (inclusive), with who and why in the trail."""
        at = now or now_local()
        return self._change(key, at, "silenced", lambda r: core.silence(r, until, at), by, comment)

    def _change(
        self,
        key: str,
        at: datetime,
        kind: str,
        change: Callable[[AlertRecord], AlertRecord | None],
        by: str,
        comment: str,
    ) -> bool:
        """A person's change to one alert (`change` gives its new record, None when it does
        not apply), saved with who and why and its trail row in one transaction."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT * FROM alert_state WHERE key = ?", (key,)).fetchone()
            record = None if row is None else self._decode(row)
            new = None if record is None else change(record)
            if record is None or new is None:
                return False
            new = replace(new, acknowledged_by=by, comment=comment)
            save_record(conn, new)
            append_trail(
                conn,
                at,
                by or "?",
                kind,
                key,
                before=alert_snapshot(record),
                after=alert_snapshot(new),
                comment=comment,
            )
        self._remember(new)
        return True

    # -- silences by matcher and the trail ----------------------------------------------
    def add_silence(
        self,
        matchers: Mapping[str, str],
        until: date,
        *,
        by: str,
        comment: str,
        now: datetime | None = None,
    ) -> Silence:
        """A silence by matcher (rule, unit, item): matching events go to no sink while it holds."""
        at = now or now_local()
        wanted = {k: v for k, v in matchers.items() if v}
        with self.store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO silences (matchers, starts_at, until, author, comment) VALUES (?, ?, ?, ?, ?)",
                (
                    strict_json.dumps(wanted, ensure_ascii=False),
                    at.isoformat(),
                    until.isoformat(),
                    by,
                    comment,
                ),
            )
            silence = Silence(int(cur.lastrowid or 0), wanted, at, until, by, comment)
            append_trail(
                conn,
                at,
                by,
                "silence_added",
                f"silence:{silence.id}",
                after=silence.to_dict(),
                comment=comment,
            )
        return silence

    def expire_silence(
        self, silence_id: int, *, by: str, comment: str = "", now: datetime | None = None
    ) -> Silence | None:
        """End a silence early. None: no such silence, or it was expired already."""
        at = now or now_local()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT * FROM silences WHERE id = ?", (silence_id,)).fetchone()
            if row is None or row["expired_at"] is not None:
                return None
            before = silence_from_row(row)
            conn.execute("UPDATE silences SET expired_at = ? WHERE id = ?", (at.isoformat(), silence_id))
            after = replace(before, expired_at=at)
            append_trail(
                conn,
                at,
                by,
                "silence_expired",
                f"silence:{silence_id}",
                before=before.to_dict(),
                after=after.to_dict(),
                comment=comment,
            )
        return after

    def silences(self) -> list[Silence]:
        """Every silence by matcher, oldest first (expired ones too: they are part of the record)."""
        with self.store.lock:
            return all_silences(self.store.conn)

    def silencing(self, record: AlertRecord, at: datetime | None = None) -> Silence | None:
        """The active silence by matcher that holds this alert's events back, if any."""
        when = at or now_local()
        found = [s for s in self.silences() if s.active(when)]
        return matching_silence(found, record.rule, record.unit, record.item_id, record.level_name)

    def trail(self, subject: str | None = None) -> list[dict[str, Any]]:
        """The audit trail (留痕), oldest first; of one alert key or `silence:ID` when given."""
        with self.store.lock:
            return trail_rows(self.store.conn, subject)

    def _remember(self, record: AlertRecord) -> None:
        if self._known is not None:
            self._known[record.key] = record

    def open_count(self, today: date | None = None) -> int:
        return len(self.records(["open"], today))

    def pending_count(self) -> int:
        names = [s.spec.name for s in self.sinks]
        if not names:
            return 0
        with self.store.lock:
            row = self.store.conn.execute(
                f"SELECT COUNT(*) FROM alert_outbox WHERE sink IN ({','.join('?' * len(names))})", names
            ).fetchone()
        return int(row[0])

    def sink_status(self) -> list[SinkStatus]:
        result = []
        with self.store.lock:
            counts = dict(
                self.store.conn.execute("SELECT sink, COUNT(*) FROM alert_outbox GROUP BY sink").fetchall()
            )
        for configured in self.sinks:
            spec = configured.spec
            row = self._sink_row(spec.name)
            error = configured.error or (row["last_error"] if row and row["last_error"] else "")
            next_attempt = dt(row["next_attempt"]) if row else None
            wait = None if error else sink_quota.waiting(self.store, spec.name)
            result.append(
                SinkStatus(
                    name=spec.name,
                    type=spec.type,
                    pending=int(counts.get(spec.name, 0)),
                    last_error=error or "",
                    last_error_at=dt(row["last_error_at"]) if row else None,
                    last_ok_at=dt(row["last_ok_at"]) if row else None,
                    next_attempt=wait.until if wait is not None else next_attempt,
                    permanent=bool(row["permanent"]) if row else configured.sink is None,
                    waiting=wait.reason if wait is not None else "",
                )
            )
        return result


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.astimezone()


def _stamp(value: datetime) -> float:
    return value.timestamp()


def _key_order(key: str) -> tuple[str, int, str]:
    rule, _, subject = key.partition(":")
    return (rule, int(subject), "") if subject.isdigit() else (rule, 1 << 30, subject)


def _category(event: AlertEvent, by_id: Mapping[str, Evaluated]) -> str:
    """The category of the event's item in this snapshot ("" for a source or an item gone)."""
    current = by_id.get(event.item_id)
    return current.item.category if current is not None else ""


def _county(event: AlertEvent, by_id: Mapping[str, Evaluated]) -> str:
    """The county of the event's item in a city's roll-up ("" otherwise), as `_category`."""
    current = by_id.get(event.item_id)
    return current.item.county if current is not None else ""


def _passes(pending: Sequence[Any], size: int, group_by: Sequence[str]) -> Iterator[Sequence[Any]]:
    """The outbox rows of one pass as they go out: groups under `group_by` (in the order
    of each group's first event; an event with none of the keys goes alone), else
    slices of `size`. Each is delivered, and leaves the outbox, as a whole."""
    if not group_by:
        yield from (pending[start : start + size] for start in range(0, len(pending), size))
        return
    groups: dict[Any, list[Any]] = {}
    for row in pending:
        payload = json.loads(row["payload"])
        fields = event_fields(AlertEvent.from_dict(payload), county=str(payload.get("county", "")))
        key = group_key(fields, group_by)
        groups.setdefault(("group", key) if key is not None else ("alone", row["seq"]), []).append(row)
    for rows in groups.values():
        # A backlog of one unit goes out in messages of at most GROUP_MAX: every id fits a robot's limit.
        yield from (rows[start : start + GROUP_MAX] for start in range(0, len(rows), GROUP_MAX))


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]

"""Alert rules (design §5): what each built-in rule finds on the sample and on
hand-made items, how `[alerts]` is validated, and a rule added by a plugin."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, SAMPLE_CSV, SAMPLE_MST_CSV, run_cli

from dashboard.alerting import rule_configs
from dashboard.config import load_config
from dashboard.contracts import ConfigError
from dashboard.core.alert_rules import BUILTIN_RULES, stalled_since
from dashboard.core.alerts import AlertContext, Condition, RuleConfig, SourceInfo, last_full_month
from dashboard.core.items import Item
from dashboard.core.progress import Thresholds, evaluate
from dashboard.runtime import Runtime

NOW = datetime(2024, 10, 8, 9, 0, tzinfo=timezone(timedelta(hours=8)))
RULES = {r.name: r for r in BUILTIN_RULES}
DEFAULTS = rule_configs({}, RULES)


def conditions(rule: str, ctx: AlertContext, **params: object) -> list[Condition]:
    cfg = DEFAULTS[rule]
    if params:
        cfg = RuleConfig(cfg.enabled, cfg.severity, cfg.repeat, {**cfg.params, **params})
    return list(RULES[rule].check(ctx, cfg))


def context(items: list[Item], *, as_of: date = date(2024, 9, 30), **kw: object) -> AlertContext:
    evaluated = evaluate(items, 0.75, Thresholds())
    return AlertContext(now=NOW, as_of=as_of, expected=0.75, evaluated=evaluated, **kw)  # type: ignore[arg-type]


async def sample_context(config_path: Path = DEFAULT_CONFIG) -> AlertContext:
    runtime = Runtime(load_config(config_path))
    await runtime.refresh_all()
    snap = runtime.snapshot()
    return AlertContext(now=NOW, as_of=snap.as_of, expected=snap.expected, evaluated=snap.evaluated)


async def test_on_the_sample_only_item_45_is_severely_lagging_and_nothing_else_fires() -> None:
    ctx = await sample_context()
    severe = conditions("severe", ctx)
    assert [c.key for c in severe] == ["severe:45"]
    c = severe[0]
    assert c.unit == "公安局交警大队" and "临水临崖" in c.item_name
    assert c.figures == {"ratio": 0.32, "expected": 0.75, "gap": 0.43}
    assert "32.0%" in c.message and "75.0%" in c.message and "43.0 个百分点" in c.message
    # Every other rule the default config switches on finds nothing.
    config = load_config(DEFAULT_CONFIG)
    enabled = {n for n, c in rule_configs(config.alerts, RULES, config.path).items() if c.enabled}
    assert enabled == {"severe", "lagging", "stalled", "missing_update", "source_stale"}
    for rule in enabled - {"severe"}:
        assert conditions(rule, ctx) == [], rule


def test_lagging_fires_between_expected_and_the_severe_line() -> None:
    items = [
        Item("1", "甲", unit="民政局", ratio=0.60),
        Item("2", "乙", ratio=0.75),
        Item("3", "丙", ratio=0.40),
    ]
    ctx = context(items)
    assert [c.key for c in conditions("lagging", ctx)] == ["lagging:1"]
    assert [c.key for c in conditions("severe", ctx)] == ["severe:3"]
    assert "落后 15.0 个百分点" in conditions("lagging", ctx)[0].message


def test_stalled_needs_the_ratio_unchanged_for_n_days_and_the_item_not_done() -> None:
    today = NOW.date()
    items = [Item("1", "停滞", ratio=0.5), Item("2", "刚变", ratio=0.5), Item("3", "已完成", ratio=1.0)]
    history = {
        "1": [(today - timedelta(days=40), 0.3), (today - timedelta(days=31), 0.5)],
        "2": [
            (today - timedelta(days=40), 0.5),
            (today - timedelta(days=10), 0.4),
            (today - timedelta(days=3), 0.5),
        ],
        "3": [(today - timedelta(days=90), 1.0)],
    }
    ctx = context(items, history=history)
    found = conditions("stalled", ctx)
    assert [c.key for c in found] == ["stalled:1"]
    assert found[0].figures["days"] == 31
    assert conditions("stalled", ctx, days=45) == []
    assert stalled_since(history["2"], 0.5) == today - timedelta(days=3)
    assert conditions("stalled", context(items)) == []  # no history: nothing to say


def test_missing_update_looks_at_the_last_full_month_of_provincial_items() -> None:
    assert last_full_month(date(2024, 9, 30)) == (2024, 9)
    assert last_full_month(date(2024, 9, 29)) == (2024, 8)
    items = [
        Item("1", "九月没动态", category="省实事", monthly_updates={7: 1, 8: 1, 9: 0}),
        Item("2", "九月有动态", category="省实事", monthly_updates={8: 0, 9: 2}),
        Item("3", "没有动态数据", category="省实事"),
        Item("4", "市实事", category="湘潭市实事", monthly_updates={9: 0}),
    ]
    found = conditions("missing_update", context(items))
    assert [c.key for c in found] == ["missing_update:1"]
    assert "9月" in found[0].message
    assert [c.key for c in conditions("missing_update", context(items, as_of=date(2024, 9, 15)))] == [
        "missing_update:2"
    ]


async def test_mashangtong_sample_acceptance_and_comment_rules(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer(
        [
            {"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)},
            {"name": "码上通", "type": "mashangtong", "path": str(SAMPLE_MST_CSV)},
        ]
    )
    ctx = await sample_context(cfg)
    behind = conditions("acceptance_behind", ctx)
    assert sorted(c.key for c in behind) == ["acceptance_behind:26", "acceptance_behind:40"]
    assert all(c.figures["ratio"] - c.figures["acceptance"] > 0.10 for c in behind)
    assert conditions("acceptance_behind", ctx, points=80.0) == []
    comments = conditions("comments_unanswered", ctx)
    assert sorted(c.key for c in comments) == ["comments_unanswered:27", "comments_unanswered:43"]
    assert all(c.figures["answered"] < c.figures["received"] for c in comments)
    assert conditions("missing_update", ctx) == []  # every provincial project posted in September


def test_source_failing_or_stale() -> None:
    ctx = AlertContext(
        now=NOW,
        as_of=date(2024, 9, 30),
        expected=0.75,
        sources=[
            SourceInfo("从未成功", ok=False, error="找不到文件", refresh=30),
            SourceInfo(
                "刚刚失败", ok=False, error="超时", last_success=NOW - timedelta(seconds=40), refresh=30
            ),
            SourceInfo(
                "久未成功", ok=False, error="超时", last_success=NOW - timedelta(seconds=95), refresh=30
            ),
            SourceInfo("正常", ok=True, last_success=NOW, refresh=30),
            SourceInfo("过期", ok=True, last_success=NOW - timedelta(hours=2), refresh=600),
            SourceInfo("未尝试", ok=None),
        ],
    )
    found = {c.subject: c for c in conditions("source_stale", ctx)}
    assert sorted(found) == ["久未成功", "从未成功", "过期"]
    assert "找不到文件" in found["从未成功"].message
    assert found["从未成功"].key == "source_stale:从未成功"


def test_default_config_switches_off_the_rules_that_would_fire_on_the_sample() -> None:
    config = load_config(DEFAULT_CONFIG)
    configs = rule_configs(config.alerts, RULES, config.path)
    assert configs["severe"].enabled and configs["severe"].severity == "critical"
    assert configs["severe"].repeat == timedelta(days=1)
    assert not configs["acceptance_behind"].enabled and not configs["comments_unanswered"].enabled
    assert configs["stalled"].params["days"] == 30


@pytest.mark.parametrize(
    ("toml", "key", "hint"),
    [
        ("[alerts.rules.stalld]\ndays = 3", "alerts.rules.stalld", "stalled"),
        ("[alerts.rules.stalled]\ndayz = 3", "alerts.rules.stalled.dayz", "days"),
        ('[alerts.rules.stalled]\ndays = "十"', "alerts.rules.stalled.days", "整数"),
        ('[alerts.rules.severe]\nseverity = "red"', "alerts.rules.severe.severity", "critical"),
        ('[alerts.rules.severe]\nrepeat = "sometimes"', "alerts.rules.severe.repeat", "1d"),
        ("[alerts]\nenabeld = true", "alerts.enabeld", "enabled"),
    ],
)
def test_bad_alert_config_names_the_key_and_suggests(tmp_path: Path, toml: str, key: str, hint: str) -> None:
    cfg = tmp_path / "dashboard.toml"
    cfg.write_text(f'as_of = "2024-09-30"\n{toml}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Runtime(load_config(cfg))
    assert info.value.key == key and hint in str(info.value) and str(cfg) in str(info.value)


def test_bad_alert_config_exits_2_from_check(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}], extra="[alerts.rules.stalled]\ndays = -3"
    )
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2
    assert "alerts.rules.stalled.days" in proc.stderr and str(cfg) in proc.stderr


RULE_PLUGIN = """
from dashboard import hookimpl
from dashboard.core.alerts import Condition, Rule


def check(ctx, cfg):
    for e in ctx.evaluated:
        if e.item.unit == cfg.params["unit"]:
            yield Condition("watch_unit", e.item.id, f"关注单位：{e.item.name}", item_id=e.item.id,
                            item_name=e.item.name, unit=e.item.unit)


@hookimpl
def dashboard_alert_rules():
    return [Rule("watch_unit", "关注单位", check, severity="info", enabled=False, params={"unit": ""})]
"""


def test_a_plugin_adds_a_rule_configured_like_the_built_ins(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "watch.py").write_text(RULE_PLUGIN, encoding="utf-8")
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra='plugins_dir = "lp"\n[alerts.rules.watch_unit]\nenabled = true\nunit = "教育局"',
    )
    proc = run_cli("check", "--json", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    fired = json.loads(proc.stdout)["alerts"]["fired"]
    watch = [a for a in fired if a["rule"] == "watch_unit"]
    assert watch and all(a["severity"] == "info" for a in watch)
    assert {a["key"] for a in fired} - {a["key"] for a in watch} == {"severe:45"}
    listed = json.loads(run_cli("plugins", "--json", "--config", str(cfg)).stdout)
    assert any("watch_unit" in p["provides"] for p in listed)

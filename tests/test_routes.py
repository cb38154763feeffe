"""Routes (issue 14): `[[routes]]` send each event to the sinks its level, rule, severity,
lead unit or category names (`continue = true` falls through, as Alertmanager's tree);
an event no route matches goes to every sink; bad routes are configuration errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_cli, write_every_rule_config

from dashboard.contracts import ConfigError
from dashboard.core.alerts import AlertEvent
from dashboard.routes import event_fields, parse_routes, route_sinks, sink_group_by

SINKS = ["unit_robot", "lead_group", "maintainer", "file"]
TREE = [
    {"rule": "source_stale", "sinks": ["maintainer"]},
    {"level": "提醒", "sinks": ["unit_robot"]},
    {"level": ["预警", "督办"], "sinks": ["unit_robot"], "continue": True},
    {"level": "督办", "sinks": ["lead_group"], "group_by": []},
]


def event(rule: str = "severe", level: str = "remind", unit: str = "公安局交警大队") -> AlertEvent:
    return AlertEvent(
        id="e1",
        key=f"{rule}:45",
        rule=rule,
        item_id="45",
        severity="critical",
        kind="fired",
        message="严重滞后",
        figures={},
        at=datetime(2024, 9, 30, 9, 0).astimezone(),
        item_name="城区交通信号灯",
        unit=unit,
        level=level,
    )


def test_the_routing_tree_sends_each_level_to_its_sinks() -> None:
    routes = parse_routes(TREE, SINKS)
    assert route_sinks(routes, event_fields(event(level="remind")), SINKS) == ["unit_robot"]
    assert route_sinks(routes, event_fields(event(level="warn")), SINKS) == ["unit_robot"]
    # 督办 falls through (continue) to the team lead's group as well.
    assert route_sinks(routes, event_fields(event(level="supervise")), SINKS) == ["unit_robot", "lead_group"]
    assert route_sinks(routes, event_fields(event(rule="source_stale", level="")), SINKS) == ["maintainer"]
    # An event no route matches goes everywhere, as without routes.
    assert route_sinks(routes, event_fields(event(level="")), SINKS) == SINKS
    assert route_sinks([], event_fields(event()), SINKS) == SINKS
    # Robots group by lead unit unless a route says otherwise; files never group.
    assert sink_group_by(routes, "unit_robot", "wecom") == ("unit",)
    assert sink_group_by(routes, "lead_group", "dingtalk") == ()
    assert sink_group_by(routes, "file", "jsonl") == ()
    assert sink_group_by(routes, "maintainer", "webhook") == ()  # a machine's JSON: opt in


def test_a_route_matches_on_category_and_severity() -> None:
    routes = parse_routes([{"category": ["交通", "教育"], "severity": "critical", "sinks": ["file"]}], SINKS)
    fields = event_fields(event(), category="交通")
    assert route_sinks(routes, fields, SINKS) == ["file"]
    assert route_sinks(routes, event_fields(event(), category="卫生"), SINKS) == SINKS


@pytest.mark.parametrize(
    ("table", "key", "says"),
    [
        ({"sink": ["file"]}, "routes[0].sink", "sinks"),
        ({"sinks": ["robott"]}, "routes[0].sinks", "unit_robot"),
        ({"level": "红色", "sinks": ["file"]}, "routes[0].level", "督办"),
        ({"severity": "high", "sinks": ["file"]}, "routes[0].severity", "critical"),
        ({"continue": "yes", "sinks": ["file"]}, "routes[0].continue", "true"),
        ({"group_by": ["item"], "sinks": ["file"]}, "routes[0].group_by", "unit"),
    ],
)
def test_a_bad_route_names_its_key(table: dict[str, object], key: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_routes([table], SINKS, Path("/etc/dashboard.toml"))
    assert info.value.key == key
    assert says in str(info.value)


def every_rule(folder: Path, routes: str) -> Path:
    """Design §5 at 2024-07-31 (23 events: 18 missing_update, 2 acceptance_behind,
    2 comments_unanswered, severe:45 of 公安局交警大队) with three jsonl sinks."""
    sinks = "".join(
        f'[[sinks]]\nname = "{name}"\ntype = "jsonl"\npath = {json.dumps(str(folder / f"{name}.jsonl"))}\n'
        for name in ("prov", "lead", "all")
    )
    return write_every_rule_config(folder, sinks, routes)


ROUTES = """
[[routes]]
rule = "missing_update"
sinks = ["prov"]
[[routes]]
unit = "公安局交警大队"
sinks = ["lead"]
continue = true
[[routes]]
rule = ["severe", "acceptance_behind"]
sinks = ["all"]
"""


def keys(folder: Path, name: str) -> list[str]:
    text = (folder / f"{name}.jsonl").read_text(encoding="utf-8")
    return sorted(str(json.loads(line)["rule"]) for line in text.splitlines())


def test_check_sends_each_event_to_the_sinks_of_its_routes(tmp_path: Path) -> None:
    config = every_rule(tmp_path, ROUTES)
    done = run_cli("check", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["alerts"]["fired"]) == 23
    # 18 missing_update to prov only; comments_unanswered (no route) to all three sinks.
    assert keys(tmp_path, "prov") == ["comments_unanswered"] * 2 + ["missing_update"] * 18
    # severe:45 of 公安局交警大队: lead (continue), then the severe route's sink.
    assert keys(tmp_path, "lead") == ["comments_unanswered"] * 2 + ["severe"]
    assert keys(tmp_path, "all") == ["acceptance_behind"] * 2 + ["comments_unanswered"] * 2 + ["severe"]
    # The routes test for the same event: routes 1 and 2, sinks lead and all.
    done = run_cli("routes", "--event", "severe:45", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["routes"] == [1, 2]


def test_routes_test_prints_the_matching_routes_and_sinks(tmp_path: Path) -> None:
    config = every_rule(tmp_path, ROUTES)
    args = ["routes", "--test", "--rule", "severe", "--unit", "公安局交警大队", "--level", "督办"]
    done = run_cli(*args, "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["routes"] == [1, 2] and result["sinks"] == ["lead", "all"]
    assert result["event"]["level"] == "supervise"
    text = run_cli(*args, "--config", str(config)).stdout
    assert "routes[1] unit = 公安局交警大队 → lead · continue" in text
    assert "routes[2] rule = severe|acceptance_behind → all" in text
    assert "level = 督办" in text.splitlines()[0]
    nothing = run_cli("routes", "--test", "--rule", "stalled", "--config", str(config)).stdout
    assert "没有路由匹配" in nothing and "prov" in nothing and "all" in nothing
    bad = run_cli("routes", "--test", "--level", "红色", "--config", str(config))
    assert bad.returncode == 2 and "--level" in bad.stderr


@pytest.mark.parametrize(
    ("routes", "key"),
    [
        ('[[routes]]\nrul = "severe"\nsinks = ["all"]', "routes[0].rul"),
        ('[[routes]]\nsinks = ["all"]\n[[routes]]\nsinks = ["nobody"]', "routes[1].sinks"),
        ('[[routes]]\nlevel = "红牌"\nsinks = ["all"]', "routes[0].level"),
    ],
)
def test_check_exits_2_on_a_bad_route_naming_the_file_and_key(tmp_path: Path, routes: str, key: str) -> None:
    config = every_rule(tmp_path, routes)
    done = run_cli("check", "--config", str(config))
    assert done.returncode == 2
    assert key in done.stderr and str(config) in done.stderr
    assert not (tmp_path / "all.jsonl").exists()  # nothing sent


def test_a_mute_window_may_cross_midnight_and_bad_windows_name_their_key() -> None:
    [route] = parse_routes([{"sinks": ["file"], "mute": ["22:00-08:00"]}], SINKS)
    day = datetime(2024, 9, 30)
    assert [route.muted(day.replace(hour=h, minute=m)) for h, m in [(23, 30), (7, 59), (8, 0), (12, 0)]] == [
        True,
        True,
        False,
        False,
    ]
    for bad, says in [("25:00-08:00", "25:00"), ("holiday", "holidays"), ("08:00-08:00", "08:00")]:
        with pytest.raises(ConfigError) as info:
            parse_routes([{"sinks": ["file"], "mute": [bad]}], SINKS)
        assert info.value.key == "routes[0].mute" and says in str(info.value)


def window(start: timedelta, end: timedelta) -> str:
    now = datetime.now()
    return f"{(now + start):%H:%M}-{(now + end):%H:%M}"


def test_events_of_a_muted_route_wait_in_the_outbox_and_go_out_after_the_window(tmp_path: Path) -> None:
    def configure(mute: str) -> Path:
        routes = f'[[routes]]\nrule = "missing_update"\nsinks = ["prov"]\nmute = ["{mute}"]\n'
        return every_rule(tmp_path, routes)

    config = configure(window(timedelta(hours=-1), timedelta(hours=1)))  # now is in the window
    assert run_cli("check", "--config", str(config)).returncode == 0
    # prov got the 5 events no route matched (they go everywhere); its 18 missing_update wait.
    others = ["acceptance_behind"] * 2 + ["comments_unanswered"] * 2
    assert keys(tmp_path, "prov") == [*others, "severe"] and keys(tmp_path, "all") == [*others, "severe"]
    listed = json.loads(run_cli("alerts", "--json", "--config", str(config)).stdout)
    assert {s["name"]: s["pending"] for s in listed["sinks"]} == {"prov": 18, "lead": 0, "all": 0}
    config = configure(window(timedelta(hours=2), timedelta(hours=3)))  # the window has ended
    assert run_cli("check", "--config", str(config)).returncode == 0
    assert keys(tmp_path, "prov") == [*others, *["missing_update"] * 18, "severe"]
    assert keys(tmp_path, "all") == [*others, "severe"]  # nothing new fired: only the wait ended

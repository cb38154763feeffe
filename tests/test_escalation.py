"""The escalation ladder (issue 14): an alert that stays open climbs 提醒 → 预警 → 督办
by the data's as-of dates (never by the clock), one event per step with its level;
acknowledging holds the level, resolving ends it, a relapse within the window resumes it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import SAMPLE_CSV, run_cli, sample_rows, toml_value, write_config, write_csv
from pytest_httpserver import HTTPServer

from dashboard.alerting import rule_configs
from dashboard.config import load_config
from dashboard.contracts import ConfigError
from dashboard.core.alert_rules import BUILTIN_RULES
from dashboard.core.alerts import AlertEvent, AlertRecord, Condition, RuleConfig, acknowledge, step
from dashboard.runtime import Runtime
from dashboard.store import Store

TZ = timezone(timedelta(hours=8))
T0 = datetime(2024, 10, 8, 9, 0, tzinfo=TZ)
SEP30, OCT7, OCT14 = date(2024, 9, 30), date(2024, 10, 7), date(2024, 10, 14)
NEVER = RuleConfig(severity="critical", repeat=None)  # the default ladder 0 / 7 / 14
COND = Condition(
    "severe",
    "45",
    "严重滞后：[45] 临水临崖（公安局交警大队）完成 32.0%",
    item_id="45",
    item_name="临水临崖",
    unit="公安局交警大队",
    figures={"ratio": 0.32, "expected": 0.75, "gap": 0.43},
)
RULES = {r.name: r for r in BUILTIN_RULES}


def run(
    config: RuleConfig, steps: list[tuple[date, bool]], record: AlertRecord | None = None
) -> tuple[AlertRecord | None, list[AlertEvent | None]]:
    """One evaluation a day (by the clock) per (as-of date, condition holds)."""
    events = []
    for n, (as_of, holds) in enumerate(steps):
        record, event = step(record, COND if holds else None, config, T0 + timedelta(days=n), as_of=as_of)
        events.append(event)
    return record, events


def kinds(events: list[AlertEvent | None]) -> list[tuple[str, str] | None]:
    return [None if e is None else (e.kind, e.level) for e in events]


# -- the ladder, pure ---------------------------------------------------------------------------


def test_an_open_alert_climbs_remind_warn_supervise_by_the_as_of_dates() -> None:
    days = [SEP30, date(2024, 10, 6), OCT7, OCT7, OCT14, date(2024, 11, 30)]
    record, events = run(NEVER, [(d, True) for d in days])
    assert kinds(events) == [
        ("fired", "remind"),
        None,  # 6 days open: still 提醒
        ("escalated", "warn"),
        None,  # the same bulletin again: nothing
        ("escalated", "supervise"),
        None,  # 督办 is the top
    ]
    fired, warn, supervise = events[0], events[2], events[4]
    assert fired is not None and warn is not None and supervise is not None
    assert fired.message == COND.message  # the first level keeps the rule's own words
    assert warn.message.startswith("【预警】严重滞后：[45]") and "已持续 7 天" in warn.message
    assert supervise.message.startswith("【督办】") and "已持续 14 天，连续 4 期通报" in supervise.message
    assert warn.to_dict()["level"] == "warn" and warn.to_dict()["level_label"] == "预警"
    assert AlertEvent.from_dict(supervise.to_dict()).level == "supervise"
    assert record is not None and (record.level_label, record.opened_as_of) == ("督办", SEP30)


def test_a_rerun_of_the_same_data_never_climbs_however_late_the_clock() -> None:
    record, _ = step(None, COND, NEVER, T0, as_of=SEP30)
    for later in (timedelta(days=8), timedelta(days=30)):
        record, event = step(record, COND, NEVER, T0 + later, as_of=SEP30)
        assert event is None
    assert record is not None and record.level == 0 and record.bulletins == 1


def test_after_bulletins_climbs_one_level_per_n_bulletins_in_a_row() -> None:
    slow_days = RuleConfig(repeat=None, ladder=(0, 100, 200), after_bulletins=2)
    days = [SEP30, OCT7, OCT14, date(2024, 10, 21)]
    _, events = run(slow_days, [(d, True) for d in days])
    assert kinds(events) == [("fired", "remind"), ("escalated", "warn"), None, ("escalated", "supervise")]
    warn = events[1]
    assert warn is not None and "连续 2 期通报" in warn.message


def test_a_climb_and_a_due_repeat_make_one_event_then_the_repeat_names_the_level() -> None:
    daily = RuleConfig(repeat=timedelta(days=1))
    _, events = run(daily, [(SEP30, True), (OCT7, True), (OCT7, True)])
    assert kinds(events) == [("fired", "remind"), ("escalated", "warn"), ("repeat", "warn")]
    repeat = events[2]
    assert repeat is not None and repeat.message.startswith("仍未解除：【预警】")


def test_acknowledging_holds_the_level_and_resolving_ends_it() -> None:
    record, events = run(NEVER, [(SEP30, True), (OCT7, True)])
    assert record is not None and record.level_label == "预警"
    held = acknowledge(record, T0 + timedelta(days=2))
    assert held is not None
    record, events = run(
        NEVER, [(OCT14, True), (date(2024, 10, 28), True), (date(2024, 10, 31), False)], held
    )
    assert kinds(events) == [None, None, ("resolved", "warn")]
    assert record is not None and (record.state, record.level_label) == ("resolved", "预警")
    assert record.resolved_as_of == date(2024, 10, 31)


def test_a_relapse_within_the_window_resumes_its_level_and_later_starts_afresh() -> None:
    window = RuleConfig(repeat=None, relapse_window=30)
    resolved, _ = run(window, [(SEP30, True), (OCT7, True), (OCT14, False)])
    assert resolved is not None and resolved.state == "resolved" and resolved.level == 1
    # Back behind 20 days later (by as-of dates): 预警 again, and 督办 after the 7 days it still had.
    _, events = run(window, [(date(2024, 11, 3), True), (date(2024, 11, 10), True)], resolved)
    assert kinds(events) == [("fired", "warn"), ("escalated", "supervise")]
    first = events[0]
    assert first is not None and first.message.startswith("【预警】")
    # 31 days later: outside the window, 提醒 again.
    _, late = run(window, [(date(2024, 11, 14), True)], resolved)
    assert kinds(late) == [("fired", "remind")]
    # Without a window a relapse always starts at 提醒.
    _, plain = run(NEVER, [(date(2024, 10, 20), True)], resolved)
    assert kinds(plain) == [("fired", "remind")]


def test_without_as_of_dates_nothing_climbs() -> None:
    record, event = step(None, COND, NEVER, T0)
    assert event is not None and event.level == "remind"
    record, event = step(record, COND, NEVER, T0 + timedelta(days=60))
    assert event is None and record is not None and record.level == 0


# -- configuration ---------------------------------------------------------------------------------


def test_ladder_settings_default_under_alerts_and_per_rule() -> None:
    configs = rule_configs(
        {
            "ladder": [0, 3, 5],
            "relapse_window": "30d",
            "rules": {"severe": {"ladder": [0, 7], "after_bulletins": 2}, "lagging": {"relapse_window": 0}},
        },
        RULES,
    )
    assert configs["stalled"].ladder == (0, 3, 5) and configs["stalled"].relapse_window == 30
    assert (configs["severe"].ladder, configs["severe"].after_bulletins) == ((0, 7), 2)
    assert configs["lagging"].relapse_window is None
    assert rule_configs({}, RULES)["severe"].ladder == (0, 7, 14)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"rules": {"severe": {"ladder": [7, 14]}}}, "alerts.rules.severe.ladder"),  # must start at 0
        ({"rules": {"severe": {"ladder": [0, 14, 7]}}}, "alerts.rules.severe.ladder"),
        ({"rules": {"severe": {"ladder": [0, 7, 14, 21]}}}, "alerts.rules.severe.ladder"),
        ({"ladder": "0,7,14"}, "alerts.ladder"),
        ({"rules": {"lagging": {"after_bulletins": -1}}}, "alerts.rules.lagging.after_bulletins"),
        ({"relapse_window": "soon"}, "alerts.relapse_window"),
        ({"rules": {"severe": {"relapse_window": "12h"}}}, "alerts.rules.severe.relapse_window"),
    ],
)
def test_a_bad_ladder_setting_names_the_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        rule_configs(table, RULES)
    assert info.value.key == key


def test_a_bad_ladder_exits_2_from_check_naming_the_file_and_key(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}], extra="[alerts]\nladder = [0, 14, 7]"
    )
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2
    assert "alerts.ladder" in proc.stderr and str(cfg) in proc.stderr


# -- through `dashboard check`, the store and the sinks ---------------------------------------------


def sinks_toml(hook: str, jsonl: Path) -> str:
    return "\n".join(
        [
            "[[sinks]]",
            'type = "webhook"',
            f"url = {toml_value(hook)}",
            "[[sinks]]",
            'type = "jsonl"',
            f"path = {toml_value(str(jsonl))}",
        ]
    )


def check_at(folder: Path, as_of: str, extra: str) -> dict[str, object]:
    cfg = write_config(folder, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}], extra, as_of=as_of)
    proc = run_cli("check", "--json", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    report: dict[str, object] = json.loads(proc.stdout)
    return report


def test_item_45_unchanged_climbs_remind_warn_supervise_each_delivered_once(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/robot", method="POST").respond_with_json({"ok": True})
    jsonl = tmp_path / "events.jsonl"
    extra = sinks_toml(httpserver.url_for("/robot"), jsonl)
    seen = []
    for as_of in ("2024-09-30", "2024-10-07", "2024-10-07", "2024-10-14", "2024-10-14"):
        report = check_at(tmp_path, as_of, extra)
        assert report["by_status"] == {"done": 25, "on_track": 19, "lagging": 0, "severe": 1, "unknown": 0}
        alerts = report["alerts"]
        assert isinstance(alerts, dict) and alerts["pending_delivery"] == 0
        seen.append([(e["kind"], e["key"], e["level"]) for e in alerts["fired"]])
    assert seen == [
        [("fired", "severe:45", "remind")],
        [("escalated", "severe:45", "warn")],
        [],  # the same as-of date again: nothing more
        [("escalated", "severe:45", "supervise")],
        [],
    ]
    bodies = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert [(b["kind"], b["level_label"]) for b in bodies] == [
        ("fired", "提醒"),
        ("escalated", "预警"),
        ("escalated", "督办"),
    ]
    assert "公安局交警大队" in bodies[2]["message"] and bodies[2]["message"].startswith("【督办】")
    assert bodies[1]["title"].startswith("【严重】预警·") and bodies[2]["title"].startswith("【严重】督办·")
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [(e["kind"], e["level"]) for e in lines] == [
        ("fired", "remind"),
        ("escalated", "warn"),
        ("escalated", "supervise"),
    ]
    assert len({e["id"] for e in lines}) == 3
    listed = json.loads(run_cli("alerts", "--json", "--config", str(tmp_path / "dashboard.toml")).stdout)
    assert [(a["key"], a["state"], a["level"], a["level_label"]) for a in listed["alerts"]] == [
        ("severe:45", "open", "supervise", "督办")
    ]


def test_an_acknowledged_alert_holds_its_level_across_bulletins(tmp_path: Path) -> None:
    jsonl = tmp_path / "events.jsonl"
    extra = "\n".join(["[[sinks]]", 'type = "jsonl"', f"path = {toml_value(str(jsonl))}"])
    check_at(tmp_path, "2024-09-30", extra)
    check_at(tmp_path, "2024-10-07", extra)
    ack = run_cli("ack", "severe:45", "--config", str(tmp_path / "dashboard.toml"))
    assert ack.returncode == 0, ack.stderr
    report = check_at(tmp_path, "2024-10-14", extra)
    assert report["alerts"]["fired"] == []  # type: ignore[index]
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [(e["kind"], e["level"]) for e in lines] == [("fired", "remind"), ("escalated", "warn")]


async def test_a_relapse_through_the_runtime_resumes_its_level(tmp_path: Path) -> None:
    extra = '[alerts]\nrelapse_window = "30d"'

    async def at(as_of: str, ratio: str, n: int) -> list[tuple[str, str]]:
        rows = sample_rows()
        for row in rows:
            if row and row[0] == "45":
                row[6] = ratio
        csv_path = write_csv(tmp_path / "bulletin.csv", rows)
        cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(csv_path)}], extra, as_of)
        runtime = Runtime(load_config(cfg))  # a fresh process each bulletin: the level is in the store
        try:
            await runtime.refresh_all()
            snap = runtime.evaluate_alerts(runtime.snapshot(), T0 + timedelta(days=n))
            return [(e.kind, e.level) for e in [*snap.fired, *snap.resolved]]
        finally:
            runtime.close()

    assert await at("2024-09-30", "32.0%", 0) == [("fired", "remind")]
    assert await at("2024-10-07", "32.0%", 1) == [("escalated", "warn")]
    assert await at("2024-10-14", "90.0%", 2) == [("resolved", "warn")]
    assert await at("2024-10-21", "32.0%", 3) == [("fired", "warn")]  # back within 30 days: 预警 again


def test_an_older_store_gains_the_ladder_columns_and_keeps_its_alerts(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    store = Store(path)
    store.ensure_schema(
        "alerts",
        1,
        "CREATE TABLE IF NOT EXISTS alert_state (key TEXT PRIMARY KEY, rule TEXT NOT NULL, "
        "item_id TEXT NOT NULL, item_name TEXT NOT NULL, unit TEXT NOT NULL, severity TEXT NOT NULL, "
        "state TEXT NOT NULL, message TEXT NOT NULL, figures TEXT NOT NULL, first_fired TEXT NOT NULL, "
        "last_sent TEXT, resolved_at TEXT, silenced_until TEXT, acknowledged_at TEXT);",
    )
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO alert_state VALUES ('severe:45', 'severe', '45', '临水临崖', '公安局交警大队', "
            "'critical', 'open', '严重滞后', '{}', ?, ?, NULL, NULL, NULL)",
            (T0.isoformat(), T0.isoformat()),
        )
    store.close()
    extra = f"[store]\npath = {toml_value(str(path))}"
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}], extra)
    runtime = Runtime(load_config(cfg))
    try:
        [record] = runtime.alert_records()
        assert (record.key, record.state, record.level, record.opened_as_of) == ("severe:45", "open", 0, None)
    finally:
        runtime.close()
    with sqlite3.connect(path) as db:
        columns = {r[1] for r in db.execute("PRAGMA table_info(alert_state)")}
        [(version,)] = db.execute("SELECT version FROM schema_versions WHERE name = 'alerts'").fetchall()
    assert {"level", "opened_as_of", "last_as_of", "bulletins", "resolved_as_of"} <= columns
    assert version == 2
    # Its days count from the next bulletin: the rule's daily repeat (sent in 2024), no climb.
    proc = run_cli("check", "--json", "--config", str(cfg))
    fired = json.loads(proc.stdout)["alerts"]["fired"]
    assert [(e["kind"], e["level"]) for e in fired] == [("repeat", "remind")], proc.stderr


# A sink that writes the event, then dies (os._exit: no cleanup) at the first climb, as kill -9 would.
CRASH_ON_CLIMB = """
import os
from pathlib import Path

from dashboard import hookimpl
from dashboard.sinks import SinkType
from dashboard_plugins.sink_jsonl import JsonlSink


class CrashOnClimb:
    def __init__(self, spec):
        self.marker = Path(spec.options["marker"])
        self.inner = JsonlSink(type(spec)(spec.name, "jsonl", {"path": spec.options["path"]}, spec.base_dir))

    def deliver(self, event):
        self.inner.deliver(event)
        if event.kind == "escalated" and not self.marker.exists():
            self.marker.write_text("crashed", encoding="utf-8")
            os._exit(17)


@hookimpl
def dashboard_sink_types():
    return [SinkType("crash_on_climb", CrashOnClimb, "", {"path": "", "marker": ""})]
"""


def test_killed_while_delivering_a_climb_neither_loses_nor_repeats_it(tmp_path: Path) -> None:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "crash.py").write_text(CRASH_ON_CLIMB, encoding="utf-8")
    out = tmp_path / "events.jsonl"
    extra = "\n".join(
        [
            'plugins_dir = "lp"',
            "[[sinks]]",
            'type = "crash_on_climb"',
            f"path = {toml_value(str(out))}",
            f"marker = {toml_value(str(tmp_path / 'crashed'))}",
        ]
    )

    def check(as_of: str) -> tuple[int, str]:
        cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}], extra, as_of)
        proc = run_cli("check", "--json", "--config", str(cfg))
        return proc.returncode, proc.stdout

    def sent() -> list[tuple[str, str]]:
        return [
            (e["kind"], e["level"]) for e in map(json.loads, out.read_text(encoding="utf-8").splitlines())
        ]

    assert check("2024-09-30")[0] == 0
    assert check("2024-10-07") == (17, "")  # died after writing 预警, before marking it delivered
    assert sent() == [("fired", "remind"), ("escalated", "warn")]
    code, stdout = check("2024-10-07")
    assert code == 0 and json.loads(stdout)["alerts"]["fired"] == []  # decided once already
    assert json.loads(stdout)["alerts"]["pending_delivery"] == 0
    assert check("2024-10-14")[0] == 0
    assert sent() == [("fired", "remind"), ("escalated", "warn"), ("escalated", "supervise")]


def test_store_repair_keeps_the_level_reached(tmp_path: Path) -> None:
    jsonl = tmp_path / "events.jsonl"
    extra = "\n".join(["[[sinks]]", 'type = "jsonl"', f"path = {toml_value(str(jsonl))}"])
    check_at(tmp_path, "2024-09-30", extra)
    check_at(tmp_path, "2024-10-07", extra)  # 预警
    repaired = run_cli("store", "repair", "--json", "--config", str(tmp_path / "dashboard.toml"))
    assert repaired.returncode == 0, repaired.stderr
    assert json.loads(repaired.stdout)["kept"]["alert_state"] == 1
    assert check_at(tmp_path, "2024-10-07", extra)["alerts"]["fired"] == []  # type: ignore[index]
    fired = check_at(tmp_path, "2024-10-14", extra)["alerts"]["fired"]  # type: ignore[index]
    assert [(e["kind"], e["level"]) for e in fired] == [("escalated", "supervise")]
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [e["level"] for e in lines] == ["remind", "warn", "supervise"]


async def test_a_wecom_robot_shows_each_level_in_its_heading_and_text(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_ROBOT_KEY", "robot-key-0123")
    httpserver.expect_request("/cgi-bin/webhook/send", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    extra = "\n".join(
        [
            "[[sinks]]",
            'type = "wecom"',
            f"url = {toml_value(httpserver.url_for('/cgi-bin/webhook/send'))}",
            'key_env = "TEST_ROBOT_KEY"',
        ]
    )
    for as_of in ("2024-09-30", "2024-10-07", "2024-10-14"):
        cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}], extra, as_of)
        runtime = Runtime(load_config(cfg))
        try:
            await runtime.cycle()
        finally:
            runtime.close()
    texts = [json.loads(request.get_data())["markdown"]["content"] for request, _ in httpserver.log]
    assert [t.splitlines()[0] for t in texts] == [
        "### 【严重】提醒·严重滞后 · 公安局交警大队",
        "### 【严重】预警·严重滞后 · 公安局交警大队",
        "### 【严重】督办·严重滞后 · 公安局交警大队",
    ]
    assert "> 【督办】严重滞后：[45]" in texts[2] and "32.0%" in texts[2]

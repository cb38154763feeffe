"""The audit trail (留痕, issue 14): every change to an alert is an append-only row with
time, actor, before and after, written in the same transaction as the change; it
survives a restart, a schema upgrade and `store repair`. Acknowledgements say who and why."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, SAMPLE_CSV, run_cli

from dashboard import store_health
from dashboard.alert_store import SCHEMA
from dashboard.config import load_config
from dashboard.runtime import Runtime
from dashboard.store import Store

TZ = timezone(timedelta(hours=8))
T0 = datetime(2024, 10, 8, 9, 0, tzinfo=TZ)


async def fire_and_ack(store_path: Path) -> None:
    """On the sample: item 45 fires (system), then 李四 acknowledges it with a comment."""
    runtime = Runtime(load_config(DEFAULT_CONFIG))
    assert runtime.store.path == store_path
    await runtime.refresh_all()
    fired = runtime.evaluate_alerts(runtime.snapshot(), T0).fired
    assert [e.key for e in fired] == ["severe:45"]
    assert runtime.alerts.acknowledge("severe:45", now=T0 + timedelta(hours=2), by="李四", comment="已约谈")
    runtime.close()


def sample_store(state: Path) -> Path:
    return load_config(DEFAULT_CONFIG).store_path or state / "dashboard.sqlite3"


async def test_fire_then_ack_is_in_the_trail_in_order_after_a_restart(isolated_state: Path) -> None:
    path = sample_store(isolated_state)
    await fire_and_ack(path)
    runtime = Runtime(load_config(DEFAULT_CONFIG))  # a restart: a new runtime on the same store
    trail = runtime.alerts.trail("severe:45")
    assert [(r["kind"], r["actor"]) for r in trail] == [("fired", "system"), ("acknowledged", "李四")]
    assert [datetime.fromisoformat(r["at"]) for r in trail] == [T0, T0 + timedelta(hours=2)]
    assert trail[0]["after"]["severity"] == "critical" and "32.0%" in trail[0]["after"]["message"]
    assert trail[1]["before"]["state"] == "open" and trail[1]["after"]["state"] == "acknowledged"
    assert trail[1]["comment"] == "已约谈"
    record = runtime.alerts.record("severe:45")
    assert record is not None and (record.acknowledged_by, record.comment) == ("李四", "已约谈")
    runtime.close()


async def test_an_update_or_a_delete_on_the_trail_fails(isolated_state: Path) -> None:
    path = sample_store(isolated_state)
    await fire_and_ack(path)
    conn = sqlite3.connect(path)
    try:
        for sql in (
            "UPDATE audit_trail SET actor = '某人'",
            "DELETE FROM audit_trail",
            "DELETE FROM audit_trail WHERE seq = 1",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(sql)
        assert conn.execute("SELECT COUNT(*), MIN(actor) FROM audit_trail").fetchone() == (2, "system")
    finally:
        conn.close()


async def test_store_repair_copies_the_trail_and_keeps_it_append_only(isolated_state: Path) -> None:
    path = sample_store(isolated_state)
    await fire_and_ack(path)
    report = store_health.repair(path)
    assert report.kept["audit_trail"] == 2 and report.dropped["audit_trail"] == 0
    assert report.kept["alert_state"] == 1 and report.alert_state_intact
    assert store_health.check(path)["ok"]
    runtime = Runtime(load_config(DEFAULT_CONFIG))
    assert [r["actor"] for r in runtime.alerts.trail("severe:45")] == ["system", "李四"]
    record = runtime.alerts.record("severe:45")
    assert record is not None and record.acknowledged_by == "李四"
    runtime.close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_trail")
    conn.close()


def test_an_older_store_is_upgraded_in_place_and_keeps_its_alerts(tmp_path: Path) -> None:
    """A file from before the trail: alert_state without the who/why columns, no trail.
    Opening it adds them (ALTER TABLE); the old row reads with no author; re-running
    the upgrade (as a later version bump would) leaves the trail's rows alone."""
    path = tmp_path / "old.sqlite3"
    old = Store(path)
    old.ensure_schema("alerts", 1, SCHEMA)
    with old.transaction() as conn:
        conn.execute(
            "INSERT INTO alert_state (key, rule, item_id, item_name, unit, severity, state, message, figures, "
            "first_fired) VALUES ('severe:45', 'severe', '45', '临水临崖', '公安局交警大队', 'critical', 'open', "
            "'严重滞后', '{}', ?)",
            (T0.isoformat(),),
        )
    old.close()
    config = load_config(DEFAULT_CONFIG)
    config.store_path = path
    runtime = Runtime(config)
    record = runtime.alerts.record("severe:45")
    assert record is not None and record.acknowledged_by == "" and record.state == "open"
    assert runtime.alerts.acknowledge("severe:45", now=T0, by="王五", comment="")
    runtime.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_versions SET version = 0 WHERE name = 'audit'")  # force the DDL again
    runtime = Runtime(config)
    assert [(r["kind"], r["actor"]) for r in runtime.alerts.trail()] == [("acknowledged", "王五")]
    runtime.close()


def test_ack_by_and_comment_from_the_cli_and_the_default_author(tmp_path: Path, isolated_state: Path) -> None:
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'as_of = "2024-09-30"\n[user]\nname = "赵六"\n[[sources]]\nname = "通报"\ntype = "csv"\n'
        f"path = {json.dumps(str(SAMPLE_CSV))}\n",
        encoding="utf-8",
    )
    assert run_cli("check", "--config", str(config)).returncode == 0
    done = run_cli("ack", "severe:45", "--comment", "已电话督促", "--config", str(config))
    assert done.returncode == 0, done.stderr
    listed = json.loads(run_cli("alerts", "--json", "--config", str(config)).stdout)
    (alert,) = listed["alerts"]
    assert (alert["key"], alert["state"]) == ("severe:45", "acknowledged")
    assert (alert["acknowledged_by"], alert["comment"]) == ("赵六", "已电话督促")  # [user] name
    assert alert["silenced_by"] is None and listed["silences"] == []
    # --by wins over the config; the trail holds both steps with their authors.
    again = run_cli("ack", "severe:45", "--for", "7d", "--by", "孙七", "--config", str(config))
    assert again.returncode == 0, again.stderr
    trail = run_cli("export", "--view", "trail", "--format", "json", "-o", "-", "--config", str(config))
    rows = json.loads(trail.stdout)["rows"]
    assert [(r["kind"], r["actor"], r["comment"]) for r in rows] == [
        ("fired", "system", ""),
        ("acknowledged", "赵六", "已电话督促"),
        ("silenced", "孙七", ""),
    ]


async def test_a_and_m_in_the_tui_record_the_configured_author(tmp_path: Path) -> None:
    from screen_text import loaded

    from dashboard.ui.app import make_app
    from dashboard.ui.screens.alerts import AlertsScreen

    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'as_of = "2024-09-30"\n[user]\nname = "赵六"\n[[sources]]\nname = "通报"\ntype = "csv"\n'
        f"path = {json.dumps(str(SAMPLE_CSV))}\n",
        encoding="utf-8",
    )
    app = make_app(load_config(config))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("w")
        assert isinstance(app.screen, AlertsScreen)
        await pilot.press("m", *"week", "enter", "a", "enter")  # silence 45 a week (with a comment), then ack
        trail = app.runtime.alerts.trail("severe:45")
        record = app.runtime.alerts.record("severe:45")
    assert [(r["kind"], r["actor"]) for r in trail] == [
        ("fired", "system"),
        ("silenced", "赵六"),
        ("acknowledged", "赵六"),
    ]
    assert record is not None and record.state == "acknowledged" and record.acknowledged_by == "赵六"

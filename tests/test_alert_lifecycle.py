"""The alert lifecycle (design §5): fire once, repeat no more often than the rule
says, resolve once, stay quiet when acknowledged or silenced, and survive a restart
because every bit of state is in the SQLite store."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import DEFAULT_CONFIG, run_cli, sample_rows, write_csv

from dashboard.config import load_config
from dashboard.core.alerts import AlertRecord, Condition, RuleConfig, acknowledge, silence, step
from dashboard.runtime import Runtime, Snapshot

TZ = timezone(timedelta(hours=8))
T0 = datetime(2024, 10, 8, 9, 0, tzinfo=TZ)
DAILY = RuleConfig(severity="critical", repeat=timedelta(days=1))
COND = Condition(
    "severe",
    "45",
    "严重滞后：[45] …",
    item_id="45",
    item_name="临水临崖",
    unit="公安局交警大队",
    figures={"ratio": 0.32, "expected": 0.75, "gap": 0.43},
)


def jsonl(state: Path) -> list[dict[str, object]]:
    # The sample's alert file is at the top of the data folder; another config's in its own folder.
    found = [state / "alerts.jsonl", *state.glob("configs/*/alerts.jsonl")]
    path = next((p for p in found if p.exists()), found[0])
    return (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )


def sample_with_ratio(folder: Path, item_id: str, ratio: str) -> Path:
    rows = sample_rows()
    for row in rows:
        if row and row[0] == item_id:
            row[6] = ratio
    return write_csv(folder / "bulletin.csv", rows)


# -- the state machine, pure ---------------------------------------------------------------


def test_fires_once_repeats_after_the_interval_and_resolves_once() -> None:
    record, event = step(None, COND, DAILY, T0)
    assert event is not None and event.kind == "fired" and event.key == "severe:45"
    assert record is not None and record.state == "open" and record.last_sent == T0
    for later in (T0 + timedelta(minutes=5), T0 + timedelta(hours=23)):
        record, event = step(record, COND, DAILY, later)
        assert event is None
    record, event = step(record, COND, DAILY, T0 + timedelta(days=1))
    assert event is not None and event.kind == "repeat" and event.message.startswith("仍未解除")
    record, event = step(
        record, None, DAILY, T0 + timedelta(days=2), resolve_figures={"ratio": 0.8, "gap": -0.05}
    )
    assert event is not None and event.kind == "resolved" and event.figures["ratio"] == 0.8
    assert record is not None and record.state == "resolved"
    assert step(record, None, DAILY, T0 + timedelta(days=3)) == (record, None)
    again, event = step(record, COND, DAILY, T0 + timedelta(days=4))
    assert event is not None and event.kind == "fired" and again is not None and again.first_fired > T0


def test_no_repeat_when_the_rule_says_never() -> None:
    never = RuleConfig(repeat=None)
    record, _ = step(None, COND, never, T0)
    assert step(record, COND, never, T0 + timedelta(days=60))[1] is None


def test_acknowledged_stays_quiet_until_it_resolves() -> None:
    record, _ = step(None, COND, DAILY, T0)
    assert record is not None
    acked = acknowledge(record, T0)
    assert acked is not None and acked.state == "acknowledged"
    record2, event = step(acked, COND, DAILY, T0 + timedelta(days=5))
    assert event is None and record2 is not None and record2.state == "acknowledged"
    _, event = step(record2, None, DAILY, T0 + timedelta(days=6))
    assert event is not None and event.kind == "resolved"  # the liaison heard of it, so hears it cleared


def test_silenced_until_a_date_then_speaks_again() -> None:
    record, _ = step(None, COND, DAILY, T0)
    assert record is not None
    quiet = silence(record, date(2024, 10, 12), T0)
    assert quiet.state == "silenced"
    record2, event = step(quiet, COND, DAILY, datetime(2024, 10, 12, 23, 0, tzinfo=TZ))
    assert event is None and record2 is not None and record2.state == "silenced"
    record3, event = step(record2, COND, DAILY, datetime(2024, 10, 13, 8, 0, tzinfo=TZ))
    assert event is not None and event.kind == "repeat" and record3 is not None and record3.state == "open"


def test_a_silence_outlives_a_resolution_and_a_quiet_occurrence_resolves_quietly() -> None:
    record, _ = step(None, COND, DAILY, T0)
    assert record is not None
    record, _ = step(record, None, DAILY, T0 + timedelta(hours=1))
    assert isinstance(record, AlertRecord)
    record = silence(record, date(2024, 10, 20), T0 + timedelta(hours=2))
    record, event = step(record, COND, DAILY, T0 + timedelta(days=1))
    assert event is None and record is not None and record.state == "silenced"
    record, event = step(record, None, DAILY, T0 + timedelta(days=2))
    assert event is None and record is not None and record.state == "resolved"  # nothing was sent


# -- through the runtime and the store ----------------------------------------------------------


async def cycle_at(runtime: Runtime, now: datetime) -> Snapshot:
    await runtime.refresh_all()
    return runtime.evaluate_alerts(runtime.snapshot(), now)


def test_check_on_the_sample_fires_item_45_once_then_nothing(isolated_state: Path) -> None:
    first = run_cli("check", "--json", "--config", str(DEFAULT_CONFIG))
    assert first.returncode == 0, first.stderr
    alerts = json.loads(first.stdout)["alerts"]
    assert [(a["key"], a["rule"], a["item_id"], a["severity"]) for a in alerts["fired"]] == [
        ("severe:45", "severe", "45", "critical")
    ]
    assert "公安局交警大队" in alerts["fired"][0]["message"] and "32.0%" in alerts["fired"][0]["message"]
    assert alerts["resolved"] == [] and alerts["pending_delivery"] == 0
    lines = jsonl(isolated_state)
    assert [(e["kind"], e["key"]) for e in lines] == [("fired", "severe:45")]
    assert lines[0]["figures"] == {"ratio": 0.32, "expected": 0.75, "gap": 0.43}

    second = run_cli("check", "--json", "--config", str(DEFAULT_CONFIG))
    assert json.loads(second.stdout)["alerts"] == {**alerts, "fired": []}
    assert len(jsonl(isolated_state)) == 1


def test_raising_item_45_to_80_percent_resolves_it_once(
    tmp_path: Path, isolated_state: Path, config_writer: Callable[..., Path]
) -> None:
    csv_path = sample_with_ratio(tmp_path, "45", "32.0%")
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(csv_path)}])
    assert [
        a["key"]
        for a in json.loads(run_cli("check", "--json", "--config", str(cfg)).stdout)["alerts"]["fired"]
    ] == ["severe:45"]
    sample_with_ratio(tmp_path, "45", "80.0%")
    report = json.loads(run_cli("check", "--json", "--config", str(cfg)).stdout)
    assert report["by_status"]["severe"] == 0
    assert report["alerts"]["fired"] == []
    assert [(a["key"], a["item_id"]) for a in report["alerts"]["resolved"]] == [("severe:45", "45")]
    third = json.loads(run_cli("check", "--json", "--config", str(cfg)).stdout)["alerts"]
    assert third["fired"] == [] and third["resolved"] == []
    events = jsonl(isolated_state)
    assert [(e["kind"], e["key"]) for e in events] == [("fired", "severe:45"), ("resolved", "severe:45")]
    assert events[1]["figures"]["ratio"] == 0.8
    listed = json.loads(run_cli("alerts", "--json", "--config", str(cfg)).stdout)["alerts"]
    assert [(a["key"], a["state"]) for a in listed] == [("severe:45", "resolved")]


async def test_repeat_interval_and_acknowledgement_survive_a_restart(isolated_state: Path) -> None:
    config = load_config(DEFAULT_CONFIG)
    runtime = Runtime(config)
    snap = await cycle_at(runtime, T0)
    assert [e.key for e in snap.fired] == ["severe:45"]
    assert runtime.open_alert_count() == 1
    runtime.close()

    runtime = Runtime(config)  # a restart: the state comes back from SQLite
    assert (await cycle_at(runtime, T0 + timedelta(hours=12))).fired == []
    snap = await cycle_at(runtime, T0 + timedelta(days=1, minutes=1))
    assert [(e.kind, e.key) for e in snap.fired] == [("repeat", "severe:45")]
    assert runtime.acknowledge("severe:45") is True
    assert runtime.acknowledge("severe:99") is False
    assert runtime.open_alert_count() == 0
    assert [r.state for r in runtime.alert_records(["acknowledged"])] == ["acknowledged"]
    runtime.close()

    runtime = Runtime(config)
    assert (await cycle_at(runtime, T0 + timedelta(days=5))).fired == []
    record = runtime.alert_records()[0]
    assert (record.key, record.state, record.unit) == ("severe:45", "acknowledged", "公安局交警大队")
    assert record.first_fired == T0 and record.last_sent == T0 + timedelta(days=1, minutes=1)
    runtime.close()
    assert [e["kind"] for e in jsonl(isolated_state)] == ["fired", "repeat"]


async def test_silence_from_the_dashboard_holds_until_the_date(isolated_state: Path) -> None:
    runtime = Runtime(load_config(DEFAULT_CONFIG))
    await cycle_at(runtime, T0)
    assert runtime.silence("severe:45", date(2024, 10, 15)) is True
    record = runtime.alert_records()[0]
    assert (record.state, record.silenced_until) == ("silenced", date(2024, 10, 15))
    assert (await cycle_at(runtime, datetime(2024, 10, 15, 20, 0, tzinfo=TZ))).fired == []
    snap = await cycle_at(runtime, datetime(2024, 10, 16, 8, 0, tzinfo=TZ))
    assert [(e.kind, e.key) for e in snap.fired] == [("repeat", "severe:45")]
    runtime.close()


def test_alerts_and_ack_commands(isolated_state: Path) -> None:
    config = str(DEFAULT_CONFIG)
    assert run_cli("alerts", "--config", config).stdout.startswith("没有预警")
    run_cli("check", "--config", config)
    listed = json.loads(run_cli("alerts", "--json", "--state", "open", "--config", config).stdout)
    assert [(a["key"], a["state"], a["unit"]) for a in listed["alerts"]] == [
        ("severe:45", "open", "公安局交警大队")
    ]
    assert listed["pending_delivery"] == 0

    missing = run_cli("ack", "severe:4", "--config", config)
    assert missing.returncode == 1 and "severe:45" in missing.stderr
    ack = run_cli("ack", "severe:45", "--config", config)
    assert ack.returncode == 0 and "已确认" in ack.stdout
    assert (
        json.loads(run_cli("alerts", "--json", "--state", "open", "--config", config).stdout)["alerts"] == []
    )
    text = run_cli("alerts", "--state", "acknowledged", "--config", config).stdout
    assert "已确认" in text and "severe:45" in text

    until = (date.today() + timedelta(days=3)).isoformat()
    silenced = run_cli("ack", "severe:45", "--until", until, "--config", config)
    assert silenced.returncode == 0 and until in silenced.stdout
    state = json.loads(run_cli("alerts", "--json", "--config", config).stdout)["alerts"][0]
    assert (state["state"], state["silenced_until"]) == ("silenced", until)
    assert run_cli("ack", "severe:45", "--until", "2020-01-01", "--config", config).returncode == 2
    # A later check neither re-fires nor resolves it: nothing new in the file.
    assert json.loads(run_cli("check", "--json", "--config", config).stdout)["alerts"]["fired"] == []
    assert len(jsonl(isolated_state)) == 1


def test_switching_alerts_off(config_writer: Callable[..., Path], isolated_state: Path) -> None:
    from conftest import SAMPLE_CSV

    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra="[alerts.rules.severe]\nenabled = false",
    )
    report = json.loads(run_cli("check", "--json", "--config", str(cfg)).stdout)
    assert report["alerts"]["fired"] == [] and report["by_status"]["severe"] == 1
    assert jsonl(isolated_state) == []


async def test_stalled_reads_the_store_history(isolated_state: Path) -> None:
    runtime = Runtime(load_config(DEFAULT_CONFIG))
    await runtime.refresh_all()  # records every item's figures in the store's history, now
    later = datetime.now().astimezone() + timedelta(days=31)
    snap = runtime.evaluate_alerts(runtime.snapshot(), later)
    stalled = [e for e in snap.fired if e.rule == "stalled"]
    # Every item not done (19 on track and item 45) has not moved for 31 days.
    assert len(stalled) == 20 and "stalled:45" in {e.key for e in stalled}
    assert all("31 天" in e.message for e in stalled)
    runtime.close()


@pytest.mark.parametrize(("days", "stalled"), [(29, 0), (30, 20)])
async def test_stalled_starts_on_the_30th_day_without_a_change(
    isolated_state: Path, days: int, stalled: int
) -> None:
    # The store is asked only for items unchanged since before the cut-off day: the boundary holds.
    runtime = Runtime(load_config(DEFAULT_CONFIG))
    await runtime.refresh_all()
    later = datetime.now().astimezone() + timedelta(days=days)
    snap = runtime.evaluate_alerts(runtime.snapshot(), later)
    assert len([e for e in snap.fired if e.rule == "stalled"]) == stalled
    runtime.close()


async def test_an_item_gone_with_its_failed_source_is_not_resolved(isolated_state: Path) -> None:
    from dashboard.core.alerts import AlertContext, SourceInfo

    runtime = Runtime(load_config(DEFAULT_CONFIG))
    await cycle_at(runtime, T0)
    failed = AlertContext(
        now=T0 + timedelta(hours=1),
        as_of=date(2024, 9, 30),
        expected=0.75,
        evaluated=[],
        sources=[SourceInfo("湘乡市9月通报", ok=False, error="找不到文件", refresh=30)],
    )
    result = runtime.alerts.evaluate(failed)
    assert result.resolved == [] and [e.key for e in result.fired] == ["source_stale:湘乡市9月通报"]
    assert "severe:45" in {r.key for r in runtime.alert_records(["open"])}
    removed = AlertContext(now=T0 + timedelta(hours=2), as_of=date(2024, 9, 30), expected=0.75, evaluated=[])
    resolved = runtime.alerts.evaluate(removed).resolved  # the source is simply gone now
    assert sorted(e.key for e in resolved) == ["severe:45", "source_stale:湘乡市9月通报"]
    runtime.close()


def test_one_process_delivers_at_a_time(isolated_state: Path) -> None:
    from dashboard.alert_store import delivery_lock

    store = isolated_state / "dashboard.sqlite3"
    with delivery_lock(store) as held:  # as if the dashboard were sending right now
        assert held
        report = json.loads(run_cli("check", "--json", "--config", str(DEFAULT_CONFIG)).stdout)["alerts"]
        assert [a["key"] for a in report["fired"]] == ["severe:45"] and report["pending_delivery"] == 1
        assert jsonl(isolated_state) == []
    report = json.loads(run_cli("check", "--json", "--config", str(DEFAULT_CONFIG)).stdout)["alerts"]
    assert report["fired"] == [] and report["pending_delivery"] == 0
    assert [e["key"] for e in jsonl(isolated_state)] == ["severe:45"]


def test_a_what_if_date_or_no_alerts_leaves_the_alerts_alone(isolated_state: Path) -> None:
    config = str(DEFAULT_CONFIG)
    june = json.loads(run_cli("check", "--json", "--as-of", "2024-06-30", "--config", config).stdout)
    assert june["alerts"]["evaluated"] is False and june["alerts"]["fired"] == []
    quiet = run_cli("check", "--no-alerts", "--config", config)
    assert quiet.returncode == 0 and "未评估" in quiet.stdout
    assert jsonl(isolated_state) == []
    september = json.loads(run_cli("check", "--json", "--as-of", "2024-09-30", "--config", config).stdout)
    assert september["alerts"]["evaluated"] is True
    assert [a["key"] for a in september["alerts"]["fired"]] == ["severe:45"]

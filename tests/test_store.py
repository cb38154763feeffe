"""The SQLite store: item ratio history (changes only) and each source's last good state."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from conftest import SAMPLE_COUNTS, SAMPLE_CSV, run_cli, sample_rows, write_csv

from dashboard.config import load_config
from dashboard.core.items import DataWarning, Item
from dashboard.runtime import Runtime
from dashboard.store import Store, history_key, item_from_dict, item_to_dict

ITEM45 = "重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)"


def item(n: int, ratio: float | None) -> Item:
    return Item(id=str(n), name=f"项目{n}", unit=f"单位{n % 7}", ratio=ratio, source="s")


def with_item45_ratio(rows: list[list[str]], ratio: str) -> list[list[str]]:
    out = [list(r) for r in rows]
    row = next(r for r in out if r[2] == ITEM45)
    row[5], row[6] = "", ratio  # progress note and ratio: the ratio alone decides
    return out


def test_history_records_only_changed_figures(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    items = [item(n, n / 100) for n in range(1, 46)]
    assert store.record_history(items, datetime(2024, 9, 1, 8)) == 45
    assert store.record_history(items, datetime(2024, 9, 1, 9)) == 0  # nothing changed: nothing written
    items[44] = item(45, 0.5)
    assert store.record_history(items, datetime(2024, 9, 2, 8)) == 1
    points = store.history(history_key(items[44]))
    assert [(p.at, p.ratio) for p in points] == [
        (datetime(2024, 9, 1, 8), 0.45),
        (datetime(2024, 9, 2, 8), 0.5),
    ]
    assert store.last_changes()[history_key(items[44])] == datetime(2024, 9, 2, 8)
    store.close()
    # A new connection (a restart) compares against what is on disk.
    again = Store(tmp_path / "s.sqlite3")
    assert again.record_history(items, datetime(2024, 9, 3, 8)) == 0


def test_history_key_does_not_depend_on_the_source_or_the_row() -> None:
    a = Item(id="45", name=ITEM45, unit="公安局交警大队", source="通报")
    b = Item(id="HN2024-23-1", name=ITEM45 + " ", unit="公安局 交警大队", source="码上通")
    assert history_key(a) == history_key(b)


def test_many_items_only_the_changed_rows_are_written(tmp_path: Path) -> None:
    # 20,000 keeps the suite quick; 100,000 take about 1 s to record first, 0.25 s when unchanged.
    store = Store(tmp_path / "s.sqlite3")
    items = [item(n, (n % 100) / 100) for n in range(20_000)]
    assert store.record_history(items) == 20_000
    for n in range(0, 20_000, 1000):
        items[n] = item(n, 0.999)
    assert store.record_history(items) == 20
    count = store.conn.execute("SELECT COUNT(*) FROM item_history").fetchone()[0]
    assert count == 20_020


def test_source_state_round_trip_keeps_items_exactly(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    rich = Item(
        id="7",
        name="城镇新增就业(人)",
        category="省实事",
        unit="人社局",
        target=6150,
        ratio=0.874,
        as_of=date(2024, 9, 30),
        monthly_updates={3: 1, 4: 0},
        disclosures={"政策文件": 3},
        comments_received=3,
        comments_answered=3,
        extra={"备注": "x"},
        ratio_computed=False,
        source="s",
    )
    assert item_from_dict(json.loads(json.dumps(item_to_dict(rich)))) == rich
    ok_at = datetime(2024, 9, 30, 10, 0, 0)
    warning = DataWarning("s", "无法识别", "a.csv", 3, "完成比例")
    store.save_source(
        "s",
        spec_key="k",
        ok=True,
        error="",
        last_attempt=ok_at,
        last_success=ok_at,
        as_of=date(2024, 9, 30),
        items=[rich],
        warnings=[warning],
    )
    # A failure afterwards: the state moves, the last good items stay.
    failed_at = datetime(2024, 9, 30, 11, 0, 0)
    store.save_source(
        "s", spec_key="k", ok=False, error="文件不存在", last_attempt=failed_at, last_success=ok_at
    )
    saved = store.load_sources()["s"]
    assert saved.items == [rich] and saved.warnings == [warning]
    assert (saved.ok, saved.error, saved.last_attempt, saved.last_success) == (
        False,
        "文件不存在",
        failed_at,
        ok_at,
    )


def test_ratio_history_survives_a_restart(tmp_path: Path, config_writer: Callable[..., Path]) -> None:
    """Run, change the data (the next bulletin), run again: the store holds both values of
    item 45. (A change under the same as-of date replaces that date's point: test_import.py.)"""
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    cfg = config_writer([{"name": "通报", "type": "csv", "path": data.name}])
    first = run_cli("check", "--config", str(cfg), "--json")
    assert first.returncode == 0, first.stderr
    write_csv(data, with_item45_ratio(sample_rows(), "40.0%"))
    cfg = config_writer([{"name": "通报", "type": "csv", "path": data.name}], as_of="2024-10-07")
    second = run_cli("check", "--config", str(cfg), "--json")
    assert second.returncode == 0, second.stderr

    runtime = Runtime(load_config(cfg))
    item45 = next(i for i in runtime.items() if i.name == ITEM45)
    assert [p.ratio for p in runtime.history(item45)] == [0.32, 0.40]
    # Only item 45 changed, so only item 45 has a second row.
    rows = runtime.store.conn.execute("SELECT COUNT(*) FROM item_history").fetchone()[0]
    assert rows == 45 + 1


async def test_restart_shows_the_last_good_items_at_once(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV), "refresh": "30s"}])
    first = Runtime(load_config(cfg))
    await first.cycle()
    first.close()

    again = Runtime(load_config(cfg))  # no refresh yet
    state = again.states["通报"]
    assert state.restored and len(state.items) == 45 and state.last_success is not None
    snap = again.snapshot()
    assert snap.by_status == SAMPLE_COUNTS
    assert snap.evaluated[0].item.unit == "公安局交警大队"


async def test_a_changed_source_table_does_not_get_the_old_items(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    await Runtime(load_config(cfg)).cycle()
    other = write_csv(tmp_path / "other.csv", sample_rows()[:3])
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(other)}])
    assert Runtime(load_config(cfg)).states["通报"].items == []


def test_failing_source_keeps_its_last_good_items_across_runs(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    cfg = config_writer([{"name": "通报", "type": "csv", "path": data.name, "refresh": "30s"}])
    assert run_cli("check", "--config", str(cfg)).returncode == 0
    data.unlink()
    proc = run_cli("check", "--config", str(cfg), "--json")
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    source = report["sources"][0]
    assert source["ok"] is False and source["stale"] is True
    assert "bulletin.csv" in source["error"] and "文件不存在" in source["error"]
    assert source["last_success"] is not None and source["items"] == 45
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS


def test_unwritable_store_path_is_not_a_config_error(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    # Issue 12: a store that cannot be opened is shown, never a reason to refuse to run.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    cfg = config_writer(
        [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=f'[store]\npath = "{(blocker / "s.sqlite3").as_posix()}"',
    )
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert (
        "存储不可用" in proc.stdout and "not-a-folder" in proc.stdout and "项目总数 items 45" in proc.stdout
    )
    report = json.loads(run_cli("check", "--json", "--config", str(cfg)).stdout)
    assert report["store"]["ok"] is False and "not-a-folder" in report["store"]["path"]


def test_check_json_reports_last_success_and_stale(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    proc = run_cli("check", "--config", str(cfg), "--json")
    source = json.loads(proc.stdout)["sources"][0]
    assert source["stale"] is False
    assert datetime.fromisoformat(source["last_success"]) <= datetime.now()


def test_stale_after_three_refresh_periods(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV), "refresh": "1m"}])
    state = Runtime(load_config(cfg)).states["通报"]
    state.ok, state.last_success = True, datetime(2024, 9, 30, 10, 0)
    assert not state.is_stale(datetime(2024, 9, 30, 10, 3))
    assert state.is_stale(datetime(2024, 9, 30, 10, 3, 1))
    assert state.age_text(datetime(2024, 9, 30, 12, 5)) == "2 小时前"

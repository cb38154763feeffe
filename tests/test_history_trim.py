"""History is trimmed (issue 12, "Weeks of running"): points older than `[store]
keep_history` (default 2y) go, intra-day points older than a week are thinned to the
last one of each day, at most once a day per process and in `dashboard store vacuum`."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from conftest import SAMPLE_CSV, run_cli, write_config

from dashboard.config import load_config
from dashboard.core.items import Item
from dashboard.runtime import Runtime
from dashboard.store import Store, history_key

NOW = datetime(2026, 11, 30, 18, 0)
ITEMS = ("测试项目甲", "测试项目乙")  # not in the sample


def three_years(path: Path) -> Store:
    """Two items whose ratio changed every 8 hours for three years: 3,285 points each."""
    store = Store(path)
    at = NOW - timedelta(days=3 * 365)
    step = 0
    while at <= NOW:
        ratio = (step % 100) / 100
        store.record_history(
            [Item(str(i), name, unit="民政局", ratio=ratio) for i, name in enumerate(ITEMS)], at
        )
        at += timedelta(hours=8)
        step += 1
    return store


def points(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT key, at FROM item_history ORDER BY key, at").fetchall()


def test_points_older_than_two_years_go_and_old_days_keep_their_last_point(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = three_years(path)
    before = points(path)
    assert len(before) == 2 * 3286
    week_ago = (NOW - timedelta(days=7)).date().isoformat()
    recent = [p for p in before if p[1] >= week_ago]
    deleted = store.trim_history(timedelta(days=730), NOW)
    after = points(path)
    assert deleted == len(before) - len(after) > 0
    cutoff = (NOW - timedelta(days=730)).isoformat()
    assert min(at for _, at in after) >= cutoff  # nothing older than 2 years
    old = [(key, at[:10]) for key, at in after if at < week_ago]
    assert len(old) == len(set(old))  # one point per item and day once a week old
    # ...and it is the last point of that day.
    last_of_day: dict[tuple[str, str], str] = {}
    for key, at in before:
        last_of_day[(key, at[:10])] = max(at, last_of_day.get((key, at[:10]), ""))
    assert all(last_of_day[(key, at[:10])] == at for key, at in after if at < week_ago)
    assert [p for p in after if p[1] >= week_ago] == recent  # the last week untouched
    assert len(store.history(history_key(Item("0", ITEMS[0], unit="民政局")))) == len(after) // 2
    store.close()


def test_store_vacuum_trims_with_the_configured_keep_and_shrinks_the_file(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    three_years(path).close()
    config = write_config(
        tmp_path,
        [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=f'[store]\npath = {json.dumps(str(path))}\nkeep_history = "90d"',
    )
    done = run_cli("store", "vacuum", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["deleted_points"] > 6000 and report["size_after"] < report["size_before"]
    oldest = min(at for _, at in points(path))
    assert oldest >= (datetime.now() - timedelta(days=90)).isoformat(timespec="seconds")[:10]


def test_the_runtime_trims_once_a_day(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    three_years(path).close()
    config = write_config(
        tmp_path,
        [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=f'[store]\npath = {json.dumps(str(path))}\nkeep_history = "1y"',
    )
    runtime = Runtime(load_config(config))
    asyncio.run(runtime.cycle(alerts=False))
    with sqlite3.connect(path) as conn:  # an old point appears after today's trim...
        conn.execute(
            "INSERT INTO item_history(key, at, item_id, ratio) VALUES ('x|y', '2020-01-01T00:00:00', 'x', 0.5)"
        )
    asyncio.run(runtime.cycle(alerts=False))
    runtime.close()
    with sqlite3.connect(path) as conn:  # ...and stays until tomorrow's: one trim a day
        assert conn.execute("SELECT COUNT(*) FROM item_history WHERE key = 'x|y'").fetchone()[0] == 1
        conn.execute("DELETE FROM item_history WHERE key = 'x|y'")
    kept = points(path)
    # The 2026-11-30 points are from the test's clock, the sample's 45 from now: 1 year back from today.
    cutoff = (datetime.now() - timedelta(days=365)).isoformat(timespec="seconds")
    assert min(at for _, at in kept) >= cutoff[:10]
    assert (
        sum(1 for key, _ in kept if key not in {history_key(Item("0", n, unit="民政局")) for n in ITEMS})
        == 45
    )


def test_keep_history_is_validated(tmp_path: Path) -> None:
    for value, ok in (('"2y"', True), ('"18m"', True), ("0", True), ('"soon"', False), ("-1", False)):
        config = write_config(
            tmp_path,
            [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}],
            extra=f"[store]\nkeep_history = {value}",
        )
        if ok:
            assert load_config(config).store_keep_history != timedelta(0)
        else:
            done = run_cli("check", "--config", str(config))
            assert done.returncode == 2 and "store.keep_history" in done.stderr, value

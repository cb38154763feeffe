"""Live data: each source refreshes on its own timer, file sources reload when the file
changes on disk, a slow source never delays another, and the TUI follows by itself."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import sample_rows, write_csv

from dashboard.config import load_config
from dashboard.runtime import Runtime, SourceState
from dashboard.scheduler import Scheduler
from dashboard.ui.app import make_app

# Only a failsafe against a hung test; nothing here asserts on elapsed time.
FAILSAFE = 15.0
NEW_ROW = ["46", "湘潭市实事", "新增测试项目(个)", "测试单位", "8", "1", "12.5%"]

# Each fetch runs in its own thread and event loop (dashboard.isolation): the gate is a
# thread event, released from the test's loop.
SLOW_PLUGIN = """
import asyncio
import threading
from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceType
from dashboard.core.items import Item

GATE = threading.Event()
CALLS = {"running": 0, "max_running": 0, "count": 0}


class Slow:
    def __init__(self, spec):
        self.name = spec.name

    async def fetch(self):
        CALLS["count"] += 1
        CALLS["running"] += 1
        CALLS["max_running"] = max(CALLS["max_running"], CALLS["running"])
        try:
            await asyncio.to_thread(GATE.wait)
        finally:
            CALLS["running"] -= 1
        return FetchResult([Item(id="slow-1", name="慢数据源项目", unit="某单位", ratio=0.5, source=self.name)])


@hookimpl
def dashboard_source_types():
    return [SourceType("slow", Slow, "blocks until released")]
"""


class Refreshes:
    """Collects the scheduler's callbacks and lets a test wait for one that matches."""

    def __init__(self) -> None:
        self.seen: list[SourceState] = []
        self.changed = asyncio.Event()

    def __call__(self, state: SourceState) -> None:
        self.seen.append(state)
        self.changed.set()

    def count(self, name: str) -> int:
        return sum(1 for s in self.seen if s.name == name)

    async def until(self, condition: Callable[[], bool]) -> None:
        async def wait() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), FAILSAFE)


async def test_a_changed_file_is_reloaded_without_waiting_for_the_timer(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    runtime = Runtime(
        load_config(config_writer([{"name": "通报", "type": "csv", "path": data.name, "refresh": "1h"}]))
    )
    seen = Refreshes()
    scheduler = Scheduler(runtime, seen, debounce=0.2)
    await scheduler.start()
    try:
        await seen.until(lambda: seen.count("通报") == 1)
        await asyncio.wait_for(scheduler.watching.wait(), FAILSAFE)
        with data.open("a", encoding="utf-8", newline="") as f:
            f.write(",".join(NEW_ROW) + "\r\n")
        # The timer is an hour away: only the file watcher can bring this refresh.
        await seen.until(lambda: len(runtime.states["通报"].items) == 46)
        new = next(i for i in runtime.states["通报"].items if i.id == "46")
        assert new.ratio == 0.125
    finally:
        await scheduler.stop()


async def test_a_slow_source_never_delays_another_nor_piles_up(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "slowsrc.py").write_text(SLOW_PLUGIN, encoding="utf-8")
    cfg = config_writer(
        [
            {"name": "slow", "type": "slow", "refresh": "1s"},  # 1 s: the floor of refresh
            {
                "name": "fast",
                "type": "csv",
                "path": str(write_csv(tmp_path / "b.csv", sample_rows())),
                "refresh": "1s",
            },
        ],
        extra='plugins_dir = "lp"',
    )
    runtime = Runtime(load_config(cfg))
    plugin = sys.modules["dashboard_local_plugins.slowsrc"]
    seen = Refreshes()
    scheduler = Scheduler(runtime, seen, watch=False)
    await scheduler.start()
    try:
        await seen.until(lambda: seen.count("fast") >= 3)
        # The slow fetch is still running: started once, never twice at a time.
        assert plugin.CALLS == {"running": 1, "max_running": 1, "count": 1}
        assert seen.count("slow") == 0 and len(runtime.states["fast"].items) == 45
        plugin.GATE.set()
        await seen.until(lambda: seen.count("slow") >= 2)
        assert plugin.CALLS["max_running"] == 1
        assert runtime.states["slow"].ok and len(runtime.items()) == 46
    finally:
        await scheduler.stop()


async def test_refresh_now_waits_for_a_fresh_refresh_of_every_source(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    runtime = Runtime(
        load_config(config_writer([{"name": "通报", "type": "csv", "path": data.name, "refresh": "1h"}]))
    )
    scheduler = Scheduler(runtime, watch=False)
    await scheduler.start(initial=False)
    try:
        assert runtime.states["通报"].last_attempt is None  # nothing until asked
        [state] = await asyncio.wait_for(scheduler.refresh_now(), FAILSAFE)
        assert state.ok and len(state.items) == 45
        first = state.last_attempt
        write_csv(data, [*sample_rows(), NEW_ROW])
        [state] = await asyncio.wait_for(scheduler.refresh_now(), FAILSAFE)
        assert state.last_attempt is not None and first is not None and state.last_attempt >= first
        assert len(state.items) == 46
    finally:
        await scheduler.stop()


async def test_the_dashboard_follows_a_csv_changed_on_disk_without_a_key_press(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    cfg = config_writer([{"name": "通报", "type": "csv", "path": data.name, "refresh": "1h"}])
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one("#items")
        assert table.row_count == 45
        await asyncio.wait_for(app.scheduler.watching.wait(), FAILSAFE)

        with data.open("a", encoding="utf-8", newline="") as f:
            f.write(",".join(NEW_ROW) + "\r\n")

        def rows() -> list[str]:
            return [" ".join(map(str, table.get_row_at(i))) for i in range(table.row_count)]

        async def appears() -> None:
            while table.row_count != 46:
                await pilot.pause(0.05)

        await asyncio.wait_for(appears(), FAILSAFE)
        new = next(r for r in rows() if "新增测试项目" in r)
        assert "12.5%" in new


async def test_restart_shows_the_stored_items_before_any_fetch(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    cfg = config_writer([{"name": "通报", "type": "csv", "path": data.name, "refresh": "1h"}])
    await Runtime(load_config(cfg)).cycle()
    data.unlink()  # this run's fetch will fail: what is on screen comes from the store
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one("#items").row_count == 45
        state = app.runtime.states["通报"]
        assert state.ok is False and state.is_stale() and "文件不存在" in state.error
        bar = str(app.screen.query_one("#status-bar").render())
        assert "通报" in bar and "文件不存在" in bar and "数据过期" in bar


async def test_the_stored_items_are_on_screen_while_the_first_fetch_is_still_running(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "slowsrc.py").write_text(SLOW_PLUGIN, encoding="utf-8")
    cfg = config_writer([{"name": "slow", "type": "slow", "refresh": "1h"}], extra='plugins_dir = "lp"')
    first = Runtime(load_config(cfg))
    sys.modules["dashboard_local_plugins.slowsrc"].GATE.set()
    await first.cycle()
    first.close()

    app = make_app(load_config(cfg))  # a fresh plugin module: its fetch blocks until released
    plugin = sys.modules["dashboard_local_plugins.slowsrc"]
    async with app.run_test(size=(160, 45)) as pilot:

        async def fetching() -> None:
            while plugin.CALLS["running"] != 1:
                await pilot.pause(0.02)

        await asyncio.wait_for(fetching(), FAILSAFE)
        await pilot.pause()
        state = app.runtime.states["slow"]
        assert state.ok is None and state.restored  # the first fetch has not returned
        table = app.query_one("#items")
        assert table.row_count == 1 and "慢数据源项目" in " ".join(map(str, table.get_row_at(0)))
        plugin.GATE.set()
        await app.workers.wait_for_complete()
        assert state.ok and not state.restored

"""Hangs and freezes (issue 12): a fetch that blocks — in a worker thread (a FIFO, a dead
share) or right inside `async def fetch` — is bounded by its timeout. `dashboard check`
exits on time, the TUI answers keys, the other source keeps refreshing, and `q` quits."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_COUNTS, sample_rows, write_csv

from dashboard.config import load_config
from dashboard.runtime import Runtime
from dashboard.ui.app import make_app
from dashboard.ui.screens.items import OverviewScreen
from dashboard.ui.screens.sources import SourcesScreen

# Only a failsafe against a hung test; the timed assertions are the issue's own bounds.
FAILSAFE = 20.0
TIMEOUT = 2  # the stuck source's `timeout`, seconds

# A plugin whose fetch waits in a worker thread, as a read of a FIFO or a dead share does.
THREAD_BLOCK = """
import asyncio, threading, time
from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceType

STARTED = threading.Event()
CALLS = {"count": 0}


class Stuck:
    def __init__(self, spec):
        pass

    async def fetch(self):
        CALLS["count"] += 1
        STARTED.set()
        await asyncio.to_thread(time.sleep, 60)
        return FetchResult([])


@hookimpl
def dashboard_source_types():
    return [SourceType("stuck", Stuck, "waits in a thread for a minute")]
"""

# A plugin that blocks its own event loop: `time.sleep` inside `async def fetch`.
LOOP_BLOCK = THREAD_BLOCK.replace("await asyncio.to_thread(time.sleep, 60)", "time.sleep(60)")

PLUGINS = {"thread": THREAD_BLOCK, "loop": LOOP_BLOCK}


def stuck_config(tmp_path: Path, config_writer: Callable[..., Path], how: str, timeout: str) -> Path:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "stuck.py").write_text(PLUGINS[how], encoding="utf-8")
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    return config_writer(
        [
            {"name": "通报", "type": "csv", "path": str(data), "refresh": "1h"},
            {"name": "共享盘", "type": "stuck", "refresh": "1h", "timeout": timeout},
        ],
        extra='plugins_dir = "lp"',
    )


@pytest.mark.parametrize("how", ["thread", "loop"])
def test_check_exits_within_timeout_plus_two_seconds_when_a_fetch_blocks(
    tmp_path: Path, config_writer: Callable[..., Path], how: str
) -> None:
    cfg = stuck_config(tmp_path, config_writer, how, f"{TIMEOUT}s")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard", "check", "--config", str(cfg), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
        timeout=60,  # failsafe: today's main never exits
    )
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + 2, f"check took {elapsed:.1f} s"
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS
    sources = {s["name"]: s for s in report["sources"]}
    assert sources["通报"]["ok"] and sources["通报"]["items"] == 45
    assert not sources["共享盘"]["ok"]
    assert sources["共享盘"]["error"] == f"超时: {TIMEOUT} 秒内没有返回"


async def test_a_timed_out_fetch_still_running_is_not_started_twice(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    cfg = stuck_config(tmp_path, config_writer, "thread", "1s")
    runtime = Runtime(load_config(cfg))
    plugin = sys.modules["dashboard_local_plugins.stuck"]
    try:
        first = await runtime.refresh("共享盘")
        assert first.ok is False and first.error == "超时: 1 秒内没有返回"
        second = await runtime.refresh("共享盘")
        assert second.ok is False and second.error.startswith("上次读取仍未结束（已 ")
        assert plugin.CALLS["count"] == 1  # stuck threads never pile up
        assert runtime.abandoned() == ["共享盘"]
        good = await runtime.refresh("通报")
        assert good.ok and len(good.items) == 45
    finally:
        await runtime.flush()
        runtime.close()


@pytest.mark.parametrize("how", ["thread", "loop"])
async def test_the_tui_stays_free_while_a_source_blocks(
    tmp_path: Path, config_writer: Callable[..., Path], how: str
) -> None:
    cfg = stuck_config(tmp_path, config_writer, how, "30s")
    app = make_app(load_config(cfg))
    plugin = sys.modules["dashboard_local_plugins.stuck"]
    async with app.run_test(size=(160, 45)) as pilot:

        async def until(condition: Callable[[], bool]) -> None:
            while not condition():
                await pilot.pause(0.02)

        await asyncio.wait_for(until(plugin.STARTED.is_set), FAILSAFE)
        await asyncio.wait_for(until(lambda: len(app.runtime.states["通报"].items) == 45), FAILSAFE)
        # Visit the sources screen once, so the timed press below measures answering the
        # key, not composing a screen for the first time.
        await pilot.press("d")
        await pilot.press("o")

        await pilot.pause(0.3)  # let the first render and alert evaluation finish
        # Answered: the key's action has switched the screen (painting may follow). The
        # median of five presses, as the machine is shared.
        samples: list[float] = []
        for key, screen in [("d", SourcesScreen), ("o", OverviewScreen)] * 5:
            press = asyncio.ensure_future(pilot.press(key))
            started = time.monotonic()
            while not isinstance(app.screen, screen):
                await asyncio.sleep(0.002)
            if screen is SourcesScreen:
                samples.append(time.monotonic() - started)
            await press
            await pilot.pause(0.05)
        answered = sorted(samples)[len(samples) // 2]
        assert answered < 0.1, f"keys answered after {[round(s * 1000) for s in samples]} ms"
        assert app.runtime.states["共享盘"].ok is None  # still blocking: nothing has returned

        # The other source keeps refreshing: a new row in its file is seen.
        rows = sample_rows()
        rows.append(["46", "湘潭市实事", "新增测试项目(个)", "测试单位", "8", "1", "12.5%"])
        write_csv(tmp_path / "bulletin.csv", rows)
        await asyncio.wait_for(app.scheduler.refresh_now(["通报"]), FAILSAFE)
        await asyncio.wait_for(
            until(lambda: app.snapshot is not None and len(app.snapshot.evaluated) == 46), FAILSAFE
        )
        assert len(app.runtime.states["通报"].items) == 46

        await pilot.press("q")
        await asyncio.wait_for(until(lambda: not app.is_running), FAILSAFE)
    assert plugin.CALLS["count"] == 1
    # Nothing waits for the stuck read at exit: the loop's own thread pool shuts down at
    # once (today `asyncio.run` joins the stuck thread here, for the whole minute).
    await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), FAILSAFE / 2)

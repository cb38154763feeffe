"""The loading state (issue 13): with a fresh data folder and a slow source, the screen
says `载入中…` with the source's name, its elapsed time and the rows it has read, not
`–` cards and `没有符合条件的项目`; while a fetch runs the status bar says so; `r` says
`正在刷新 N 个数据源`, then `已刷新` or the error."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import sample_rows, write_csv
from textual.widgets import Digits

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.widgets.table import VirtualTable

FAILSAFE = 15.0  # only against a hung test

# The bundled CSV source, held at a gate (a thread event) before it reads: as a slow share
# does. It says how far it got (`rows_read`), as a source reading a large file can.
SLOW_CSV = """
import asyncio
import threading
from dashboard import hookimpl
from dashboard.contracts import SourceType
from dashboard_plugins.csv_source import OPTIONS, CsvSource

GATE = threading.Event()
STARTED = threading.Event()


class SlowCsv(CsvSource):
    rows_read = None

    async def fetch(self):
        self.rows_read = 12
        STARTED.set()
        await asyncio.to_thread(GATE.wait)
        self.rows_read = None
        return await super().fetch()


@hookimpl
def dashboard_source_types():
    return [SourceType("slowcsv", SlowCsv, "the CSV source, held at a gate", OPTIONS)]
"""


def slow_config(tmp_path: Path, config_writer: Callable[..., Path]) -> Path:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "slowcsv.py").write_text(SLOW_CSV, encoding="utf-8")
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    return config_writer(
        [{"name": "通报", "type": "slowcsv", "path": str(data), "refresh": "1h", "timeout": "30s"}],
        extra='plugins_dir = "lp"',
    )


def text_of(app: DashboardApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def table_lines(app: DashboardApp, selector: str, lines: int = 2) -> str:
    table = app.screen.query_one(selector, VirtualTable)
    return "\n".join(table.render_line(y).text for y in range(lines))


async def until(pilot: object, condition: Callable[[], bool]) -> None:
    async def wait() -> None:
        while not condition():
            await pilot.pause(0.05)  # type: ignore[attr-defined]

    await asyncio.wait_for(wait(), FAILSAFE)


async def test_a_slow_first_load_says_loading_then_shows_the_bulletin(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    app = make_app(load_config(slow_config(tmp_path, config_writer)))
    plugin = sys.modules["dashboard_local_plugins.slowcsv"]
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, plugin.STARTED.is_set)
        # The elapsed time moves on by itself: 0 秒, then 1 秒 (the timer redraws it).
        await until(pilot, lambda: "载入中… 通报 1 秒（已读 12 行）" in text_of(app, "#asof-line"))
        assert app.snapshot is None
        assert app.screen.query_one("#card-total", Digits).value == "–"
        shown = table_lines(app, "#items")
        assert "载入中… 通报" in shown and "没有符合条件的项目" not in shown
        assert re.search(r"正在读取 通报 \d+ 秒（已读 12 行）", text_of(app, "#status-bar"))
        assert "数据源 0/1 个已载入" in text_of(app, "#status-bar")  # not "1 个正常"
        await pilot.press("d")  # the sources screen says it too
        await until(pilot, lambda: "读取中" in table_lines(app, "#sources"))
        await pilot.press("o")

        plugin.GATE.set()
        await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.evaluated) == 45)
        await pilot.pause()
        cards = {k: app.screen.query_one(f"#card-{k}", Digits).value for k in ("total", "done", "severe")}
        assert cards == {"total": "45", "done": "25", "severe": "1"}
        assert "截止 2024-09-30" in text_of(app, "#asof-line")
        await until(pilot, lambda: "正在读取" not in text_of(app, "#status-bar"))
        assert "数据源 1 个正常" in text_of(app, "#status-bar")
        # The empty text is the table's own again (a filter that matches nothing says so).
        assert app.screen.query_one("#items", VirtualTable).empty_text.startswith("（没有符合条件的项目")


async def test_r_says_refreshing_n_sources_then_refreshed_or_the_error(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    cfg = slow_config(tmp_path, config_writer)
    app = make_app(load_config(cfg))
    plugin = sys.modules["dashboard_local_plugins.slowcsv"]
    plugin.GATE.set()
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.evaluated) == 45)
        await app.workers.wait_for_complete()

        plugin.GATE.clear()  # the next fetch waits: `r` is seen in flight
        await pilot.press("r")
        await until(pilot, lambda: "正在刷新 1 个数据源" in text_of(app, "#status-bar"))
        await until(pilot, lambda: "正在读取 通报" in text_of(app, "#status-bar"))
        plugin.GATE.set()
        await until(pilot, lambda: "已刷新 1 个数据源" in text_of(app, "#status-bar"))
        assert "正在刷新" not in text_of(app, "#status-bar")

        (tmp_path / "bulletin.csv").unlink()
        await pilot.press("r")
        await until(pilot, lambda: "刷新失败 通报: " in text_of(app, "#status-bar"))
        assert "bulletin.csv" in text_of(app, "#status-bar")
        assert app.screen.query_one("#card-total", Digits).value == "45"  # last good data kept

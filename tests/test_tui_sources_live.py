"""The sources screen tells the truth (issue 13): its rows follow every refresh (a watched
CSV deleted while the app runs reads 失败 with the error; restored, 正常 again), the ages
tick, the row warnings are counted there and in the status bar, and Enter opens the
source: its error, last attempt, last success and every warning, exportable with `e`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from conftest import sample_rows, write_csv

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.source_detail import SourceDetailScreen
from dashboard.ui.screens.sources import SourcesScreen
from dashboard.ui.widgets.table import VirtualTable

FAILSAFE = 15.0  # only against a hung test
TICKS = 5.0  # the ages redraw every second: a few ticks on a shared machine


def bulletin_with_bad_cells(path: Path) -> Path:
    """The sample with two unreadable 完成比例 cells: rows 9 and 10 of the file."""
    rows = sample_rows()
    rows[8][6] = "约三成"  # 第9行 (the header is row 1)
    rows[9][6] = "待核实"  # 第10行
    return write_csv(path, rows)


def source_row(app: DashboardApp, name: str) -> dict[str, str]:
    table = app.screen.query_one("#sources", VirtualTable)
    labels = [c.label for c in table.columns]
    for i in range(table.row_count):
        cells = [str(c) for c in table.get_row_at(i)]
        if cells[0] == name:
            return dict(zip(labels, cells, strict=True))
    raise KeyError(name)


def rendered(app: DashboardApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def screen_lines(app: DashboardApp) -> str:
    """The sources table as drawn (its strips), not as its cells would be computed now."""
    table = app.screen.query_one("#sources", VirtualTable)
    return "\n".join(table.render_line(y).text for y in range(table.row_count + 1))


async def until(pilot: object, condition: Callable[[], bool], failsafe: float = FAILSAFE) -> None:
    async def wait() -> None:
        while not condition():
            await pilot.pause(0.05)  # type: ignore[attr-defined]

    await asyncio.wait_for(wait(), failsafe)


@asynccontextmanager
async def clocked_app(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> AsyncIterator[tuple[DashboardApp, Any, dict[str, datetime], Path]]:
    """The sample in a CSV refreshed each minute, the app on a clock the test moves, loaded."""
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(data), "refresh": "1m"}])
    clock = {"now": datetime.now()}
    app = make_app(load_config(cfg), clock=lambda: clock["now"])
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.evaluated) == 45)
        await app.workers.wait_for_complete()
        yield app, pilot, clock, data


async def test_deleting_the_csv_turns_its_row_failed_within_two_seconds_and_back(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = bulletin_with_bad_cells(tmp_path / "bulletin.csv")
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(data), "refresh": "1h"}])
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.evaluated) == 45)
        await asyncio.wait_for(app.scheduler.watching.wait(), FAILSAFE)
        await pilot.press("d")
        assert isinstance(app.screen, SourcesScreen)
        row = source_row(app, "通报")
        assert row["状态"] == "正常 ok" and row["项目数"] == "45" and row["警告"] == "⚠ 2 行"
        assert "⚠ 数据警告 2 行" in rendered(app, "#status-bar")

        data.unlink()
        loop = asyncio.get_running_loop()
        deleted = loop.time()
        await until(pilot, lambda: "失败 failed" in screen_lines(app))
        assert loop.time() - deleted < 2.0  # the bound: within 2 s
        row = source_row(app, "通报")
        assert row["状态"] == "失败 failed" and "bulletin.csv" in row["错误信息"]
        assert row["项目数"] == "45"  # the last good items stay on screen
        assert "✗ 通报" in rendered(app, "#status-bar")

        bulletin_with_bad_cells(data)
        await until(pilot, lambda: "正常 ok" in screen_lines(app))
        row = source_row(app, "通报")
        assert row["状态"] == "正常 ok" and row["错误信息"] == ""

        # Enter: the source itself, with every row warning (file, row, column, message).
        await pilot.press("enter")
        assert isinstance(app.screen, SourceDetailScreen)
        facts = rendered(app, "#source-facts")
        assert "通报" in facts and "正常 ok" in facts and "上次尝试" in facts and "上次成功" in facts
        warnings = app.screen.query_one("#source-warnings", VirtualTable)
        cells = [[str(c) for c in warnings.get_row_at(i)] for i in range(warnings.row_count)]
        assert [(c[1], c[2]) for c in cells] == [("9", "完成比例"), ("10", "完成比例")]
        assert all(c[0] == str(data) for c in cells)
        assert "约三成" in cells[0][3] and "待核实" in cells[1][3]

        # `e` exports it like any view: the warnings under the source's facts.
        await pilot.press("e")
        await app.workers.wait_for_complete()
        assert app.config.export_dir is not None
        exported = list(app.config.export_dir.glob("source*.xlsx"))
        assert len(exported) == 1
        sheet = openpyxl.load_workbook(exported[0]).active
        values = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
        flat = [str(c) for row in values for c in row]
        assert "完成比例" in flat and "约三成" in " ".join(flat) and "上次成功" in " ".join(flat)
        await pilot.press("escape")
        assert isinstance(app.screen, SourcesScreen)


async def test_a_deleted_file_shows_its_error_in_the_source_detail(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(data), "refresh": "1h"}])
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: app.snapshot is not None and len(app.snapshot.evaluated) == 45)
        await pilot.press("d", "enter")
        assert isinstance(app.screen, SourceDetailScreen)
        assert "没有数据警告" in "\n".join(
            app.screen.query_one("#source-warnings", VirtualTable).render_line(y).text for y in range(2)
        )
        data.unlink()
        await app.scheduler.refresh_now(["通报"])
        await until(pilot, lambda: "失败 failed" in rendered(app, "#source-facts"))
        facts = rendered(app, "#source-facts")
        assert "错误 error:" in facts and "bulletin.csv" in facts
        view = app.screen.export_view()
        assert view is not None and view.rows == []
        assert any(n.startswith("错误 error:") for n in view.notes)
        assert any("上次成功 last success 20" in n for n in view.notes)


async def test_the_ages_tick_and_updated_at_is_the_last_good_data(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    async with clocked_app(tmp_path, config_writer) as (app, pilot, clock, data):
        state = app.runtime.states["通报"]
        good = state.last_success
        assert good is not None
        await pilot.press("d")

        # No new data arrives (the real clock stands still for the 1-minute timer), yet the
        # ages follow the app's clock: both timers redraw within a second.
        def ages(bar: str, cell: str) -> Callable[[], bool]:
            return lambda: bar in rendered(app, "#status-bar") and source_row(app, "通报")["数据龄"] == cell

        clock["now"] = good + timedelta(seconds=5)
        await until(pilot, ages("数据源 1 个正常", "5 秒"), TICKS)
        assert "数据过期" not in rendered(app, "#status-bar")
        clock["now"] = good + timedelta(minutes=4)  # 3 periods of 1 minute without a good fetch
        await until(pilot, ages("数据过期: 通报（4 分钟前）", "4 分钟"), TICKS)
        assert source_row(app, "通报")["状态"] == "过期 stale"
        clock["now"] = good + timedelta(minutes=5)
        await until(pilot, ages("数据过期: 通报（5 分钟前）", "5 分钟"), TICKS)
        assert state.last_success == good  # nothing was fetched meanwhile

        # A failed attempt: `更新于` stays at the last good data's time.
        data.unlink()
        await app.scheduler.refresh_now(["通报"])
        await until(pilot, lambda: "✗ 通报" in rendered(app, "#status-bar"))
        assert state.last_attempt is not None and state.last_attempt > good
        bar = rendered(app, "#status-bar")
        assert f"更新于 {good:%Y-%m-%d %H:%M:%S}" in bar
        assert "数据过期: 通报（5 分钟前）" in bar


async def test_the_overview_says_stale_when_the_clock_passes_three_periods(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    """`数据过期 STALE` in the headline follows the clock too, not only the arrival of new data."""
    async with clocked_app(tmp_path, config_writer) as (app, pilot, clock, _data):
        good = app.runtime.states["通报"].last_success
        assert good is not None
        assert "数据过期" not in rendered(app, "#asof-line")
        clock["now"] = good + timedelta(minutes=4)  # 3 periods of 1 minute, and no new data
        await until(pilot, lambda: "数据过期" in rendered(app, "#asof-line"), TICKS)
        assert app.runtime.states["通报"].last_success == good

"""Trends (issue 15): item 45's ratio month by month against the 序时进度 line on the item
screen, from three monthly bulletins imported into history (as tests/test_import.py makes
them); with one month only, a note instead of an empty plot."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_CSV, run_cli, write_config
from rich.cells import cell_len
from screen_text import screen_lines
from test_import import config, write_months
from test_snapshots import CST, FROZEN, FrozenDatetime, settle

from dashboard.config import load_config
from dashboard.ui.app import make_app
from dashboard.ui.screens.detail import ItemDetailScreen
from dashboard.ui.screens.units import UnitsScreen
from dashboard.ui.widgets.trend import EXPECTED_MARK, TrendPlot, TrendPoint, trend_chart


def imported(tmp_path: Path) -> Path:
    write_months(tmp_path / "bulletins")
    cfg = config(tmp_path)
    proc = run_cli("import", str(tmp_path / "bulletins"), "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    return cfg


def plot_lines(app: object) -> list[str]:
    plot = app.screen.query_one("#trend", TrendPlot)  # type: ignore[attr-defined]
    return str(plot.render()).splitlines()


async def test_item_45_plots_three_months_against_the_expected_line(tmp_path: Path) -> None:
    cfg = imported(tmp_path)
    for size in ((160, 45), (80, 24)):
        app = make_app(load_config(cfg))
        async with app.run_test(size=size) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            await app.push_screen(ItemDetailScreen("45"))
            await pilot.pause()
            lines = plot_lines(app)
            width = app.screen.query_one("#trend", TrendPlot).size.width
        months = next(line for line in lines if "7月" in line)
        assert months.index("7月") < months.index("8月") < months.index("9月"), months
        assert "10月" not in months and "6月" not in months
        # Item 45: 60% in July, 32% in August and September; expected 7/12, 8/12, 9/12.
        [ratios] = [line for line in lines if line.startswith("完成")]
        assert ratios.split()[1:] == ["60%", "32%", "32%"], ratios
        [expected] = [line for line in lines if line.startswith("序时")]
        assert expected.split()[1:] == ["58%", "67%", "75%"], expected
        # The expected line is drawn, and it climbs: its marks lie on more than one row.
        rows_with_mark = [
            i for i, line in enumerate(lines) if EXPECTED_MARK * 2 in line and "序时进度" not in line
        ]
        assert len(rows_with_mark) >= 2, lines
        assert "序时进度 expected" in lines[-1]
        assert max(cell_len(line) for line in lines) <= width, (size, width)


def test_the_expected_line_sits_above_a_bar_that_is_behind() -> None:
    points = [TrendPoint(date(2024, 8, 31), 0.32, 8 / 12), TrendPoint(date(2024, 9, 30), 0.32, 0.75)]
    lines = trend_chart(points, 60, 10).plain.splitlines()
    plot = lines[:10]
    september_mark = next(i for i, line in enumerate(plot) if EXPECTED_MARK in line[6 + 6 :])
    bar_top = next(i for i, line in enumerate(plot) if "█" in line or any(c in line for c in "▁▂▃▄▅▆▇"))
    assert september_mark < bar_top  # 75% is above the 32% bar
    assert plot[0].startswith("100%")


async def test_one_month_of_history_says_so_instead_of_an_empty_plot(tmp_path: Path) -> None:
    cfg = config(tmp_path)  # no import: only today's fetch in history
    app = make_app(load_config(cfg))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.push_screen(ItemDetailScreen("45"))
        await pilot.pause()
        text = "\n".join(plot_lines(app))
    assert "历史中只有 1 期记录" in text and "dashboard import" in text, text
    assert "█" not in text


async def test_units_by_month_show_each_units_share_done_and_points_behind(tmp_path: Path) -> None:
    cfg = imported(tmp_path)
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("u", "h")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, UnitsScreen) and screen.months is not None
        table = screen.months
        assert [c.label for c in table.columns] == [
            "牵头单位",
            "7月 完成/落后",
            "8月 完成/落后",
            "9月 完成/落后",
        ]
        rows = {t.unit: t for t in table.view_rows}
        police = rows["公安局交警大队"]
        # Its one item, 45: on the line in July (60% ≥ 58.3%), 34.7 points behind in August, 43 in September.
        assert [table.columns[i].text(police) for i in (1, 2, 3)] == ["0% / 0.0", "0% / 34.7", "0% / 43.0"]
        assert table.view_rows[0].unit == "公安局交警大队"  # the worst behind in the latest month first
        lines = screen_lines(app)
        assert any("各单位按月" in line for line in lines), lines
        assert any("公安局交警大队" in line and "0% / 34.7" in line for line in lines), lines
        # Enter opens the unit's items, as on the units table.
        await pilot.press("enter")
        await pilot.pause()
        assert "公安局交警大队 的项目" in "\n".join(screen_lines(app))
        await pilot.press("escape", "h")
        await pilot.pause()
        assert table.display is False and screen.table.display is True


def test_item_detail_with_three_months_snapshot_160x45(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 45's screen with July–September imported, every clock frozen (as in
    tests/test_snapshots.py) and the imports' load times fixed in the store, so the SVG is
    the same on every run and in any folder (the sample is copied beside the config)."""
    import dashboard.runtime as runtime_module

    write_months(tmp_path / "bulletins")
    sample = tmp_path / SAMPLE_CSV.name
    shutil.copyfile(SAMPLE_CSV, sample)
    cfg = write_config(
        tmp_path, [{"name": "通报", "type": "csv", "path": sample.name, "aliases": {"unit": ["承办单位"]}}]
    )
    assert run_cli("import", str(tmp_path / "bulletins"), "--config", str(cfg)).returncode == 0
    store_path = load_config(cfg).store_path
    assert store_path is not None
    with sqlite3.connect(store_path) as conn:  # the imports' wall-clock load times, fixed
        conn.execute("UPDATE item_history SET at = ?", (FROZEN.isoformat(timespec="seconds"),))
    monkeypatch.setattr(runtime_module, "datetime", FrozenDatetime)
    monkeypatch.setattr(runtime_module, "now_local", lambda: FROZEN.replace(tzinfo=CST))
    app = make_app(load_config(cfg), clock=lambda: FROZEN)

    async def detail(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("enter")  # item 45, first in the table
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 45), run_before=detail)

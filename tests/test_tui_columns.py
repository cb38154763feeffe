"""Columns that fit: widths from the content and the space there is (in terminal
cells: CJK is two wide), text cut to fit ends in `…`, and the columns a narrow
screen cannot show are laid past the right edge and reached with ←/→."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import DEFAULT_CONFIG, SAMPLE_MST_CSV
from rich.cells import cell_len

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.widgets.columns import Column, fit, lay_out
from dashboard.ui.widgets.table import VirtualTable


async def loaded(app: DashboardApp, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def labels(layout: list[tuple[Column[Any], int]]) -> list[str]:
    return [c.label for c, _ in layout]


def cell_texts(table: VirtualTable[Any], y: int) -> list[str]:
    """The cells of rendered line `y`, cut at the column starts of the visible layout."""
    text = table.render_line(y).text
    cells, x = [], 0
    for _, w in table.column_layout:
        cells.append(_cells(text, x, w))
        x += w + 1
    return cells


def _cells(text: str, start: int, width: int) -> str:
    out, x = "", 0
    for char in text:
        if start <= x < start + width:
            out += char
        x += cell_len(char)
    return out


def test_fit_cuts_by_display_width_and_ends_in_an_ellipsis() -> None:
    assert fit("政务服务统一受理办结率", 16) == "政务服务统一受… "  # 7 wide characters, …, a pad
    assert cell_len(fit("政务服务统一受理办结率", 16)) == 16
    assert fit("ab政务服务", 6) == "ab政… "
    assert fit("数据局", 6) == "数据局"
    assert fit("数据局", 8, "right") == "  数据局"


def test_lay_out_gives_content_width_then_moves_low_priority_columns_past_the_edge() -> None:
    cols: list[Column[str]] = [
        Column("名称", str, min_width=10, max_width=60, flex=True, width=30),
        Column("单位", str, min_width=8, max_width=20, width=14),
        Column("任务数", str, min_width=6, max_width=16, priority=4, width=16),
        Column("状态", str, min_width=8, max_width=8, priority=2, width=8),
    ]
    # Wide: every column its content width, the flex column the rest (100 - 14 - 16 - 8 - 3).
    layout, fitted = lay_out(cols, 100)
    assert fitted == 4 and [w for _, w in layout] == [59, 14, 16, 8]
    # Narrow: 任务数 (highest priority number) moves past the edge, not gone.
    layout, fitted = lay_out(cols, 40)
    assert fitted == 3 and labels(layout) == ["名称", "单位", "状态", "任务数"]
    assert [w for _, w in layout][:3] == [16, 14, 8] and sum(w for _, w in layout[:3]) + 2 == 40
    layout, fitted = lay_out(cols, 28)
    assert fitted == 2 and labels(layout) == ["名称", "单位", "任务数", "状态"]
    assert [w for _, w in layout] == [13, 14, 16, 8]  # those past the edge keep their width
    # Narrower still, with only columns that never move: the unit shrinks (its text will end in …).
    layout, fitted = lay_out(cols, 20)
    assert fitted == 2 and [w for _, w in layout][:2] == [10, 9]


async def test_overview_at_80_reaches_the_hidden_columns_with_the_arrows() -> None:
    app = make_app(load_config(DEFAULT_CONFIG))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        table = app.screen.query_one("#items", VirtualTable)
        assert labels(table.column_layout) == ["实事类别", "项目名称", "牵头单位", "完成比例", "状态"]
        assert labels(table.hidden_columns) == ["任务数", "进度情况"]
        assert table.border_subtitle == "第 1 / 45 行 · ←→ 另有 2 列"
        header = table.render_line(0).text
        assert "任务数" not in header and "状态" in header
        assert table.render_line(0).cell_length == 80
        for _ in range(6):
            await pilot.press("right")
        assert table.scroll_x > 0
        header = table.render_line(0).text
        assert "任务数" in header and "进度情况" in header
        assert "22" in table.render_line(1).text and "已完成隐患整改7处" in table.render_line(1).text
        for _ in range(6):
            await pilot.press("left")
        assert table.scroll_x == 0 and "实事类别" in table.render_line(0).text
        assert table.cursor_row == 0  # ←/→ scroll, they do not move the cursor


async def test_names_cut_at_80_end_in_an_ellipsis_and_fit_at_160() -> None:
    for size, cut in (((80, 24), True), ((160, 45), False)):
        app = make_app(load_config(DEFAULT_CONFIG))
        async with app.run_test(size=size) as pilot:
            await loaded(app, pilot)
            table = app.screen.query_one("#items", VirtualTable)
            name_col = labels(table.column_layout).index("项目名称")
            width = table.column_layout[name_col][1]
            ended = 0
            for y in range(1, table.size.height - 1):
                name = str(table.get_row_at(y - 1)[1])
                shown = cell_texts(table, y)[name_col]
                assert cell_len(shown) == width
                if cell_len(name) > width:
                    ended += 1
                    assert shown.rstrip().endswith("…") and name.startswith(shown.rstrip()[:-1])
                else:
                    assert shown.rstrip() == name
            if cut:
                assert ended > 0
            else:  # 160: the name column has at least its content width (up to its maximum, 60)
                assert width >= 60


async def test_projects_worst_column_has_room_at_80_and_whole_names_at_160(
    config_writer: Callable[..., Path],
) -> None:
    cfg = config_writer([{"name": "码上通", "type": "mashangtong", "path": str(SAMPLE_MST_CSV)}])
    for size in ((80, 24), (160, 45)):
        app = make_app(load_config(cfg))
        async with app.run_test(size=size) as pilot:
            await loaded(app, pilot)
            await pilot.press("p")
            await loaded(app, pilot)
            table = app.screen.query_one("#projects", VirtualTable)
            layout = table.column_layout
            worst = labels(layout).index("最落后指标 worst")
            assert layout[worst][1] >= 16  # never one character wide
            assert sum(w for _, w in layout) + len(layout) - 1 <= size[0] - 1
            if size == (160, 45):
                assert table.hidden_columns == []
                for y in range(1, table.row_count + 1):
                    assert "…" not in table.render_line(y).text  # 160 has room for every name
            else:
                assert labels(table.hidden_columns) == ["责任单位"]

"""The table cursor can be seen: on every table screen and in both themes, the
cursor row renders with its own background, read from the rendered strips'
segment styles, over the cells' own colours (item 45 stays red on it); the
table says where the cursor is (第 3 / 45 行), and a sort keeps the row in view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_CONFIG, SAMPLE_MST_CSV
from textual.color import Color

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.theme import CURSOR_VARIABLE, DARK, LIGHT
from dashboard.ui.widgets.table import VirtualTable

SEVERE_NAME = "重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)"
THEMES = {"dark": DARK, "light": LIGHT}


def app_for(config: Path | str, theme: str) -> DashboardApp:
    cfg = load_config(Path(config))
    cfg.ui.theme = theme
    return make_app(cfg)


async def loaded(app: DashboardApp, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def backgrounds(table: VirtualTable[Any], y: int) -> set[str]:
    """The background colours of one rendered line of the table (y = 0 is the header)."""
    return {
        seg.style.bgcolor.name if seg.style and seg.style.bgcolor else "none"
        for seg in table.render_line(y)
        if seg.text
    }


def assert_cursor_visible(table: VirtualTable[Any]) -> str:
    """The cursor line has one background of its own, unlike every other line on screen."""
    cursor_y = table.cursor_row - round(table.scroll_y) + 1
    [cursor_bg] = backgrounds(table, cursor_y)
    others = [y for y in range(1, table.size.height) if y != cursor_y]
    assert others, "a table needs lines around the cursor"
    for y in others:
        assert cursor_bg not in backgrounds(table, y), f"line {y} looks like the cursor line"
    return cursor_bg


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("key", ["o", "u", "b", "d", "w"])
async def test_cursor_row_has_its_own_background_on_every_table(key: str, theme: str) -> None:
    app = app_for(DEFAULT_CONFIG, theme)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press(key)
        await loaded(app, pilot)
        assert app.current_theme.name == THEMES[theme].name
        table = app.screen.query_one(VirtualTable)
        assert table.has_focus and table.row_count >= 1 and table.cursor_row == 0
        assert_cursor_visible(table)
        assert table.border_subtitle.startswith(f"第 1 / {table.row_count} 行")


@pytest.mark.parametrize("theme", ["dark", "light"])
async def test_item_45_bold_red_shows_the_cursor_and_keeps_its_red(theme: str) -> None:
    app = app_for(DEFAULT_CONFIG, theme)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        table = app.screen.query_one("#items", VirtualTable)
        assert table.row_count == 45 and str(table.get_row_at(0)[1]) == SEVERE_NAME
        cursor_bg = assert_cursor_visible(table)
        red = Color.parse(THEMES[theme].error).rgb
        name_cells = [s for s in table.render_line(1) if SEVERE_NAME[:4] in s.text]
        assert name_cells and all(s.style.bold for s in name_cells)
        for cell in name_cells:  # the theme's error red (to a rounding step)
            assert max(abs(a - b) for a, b in zip(cell.style.color.triplet, red, strict=True)) <= 2
        # Down: item 45 goes back to the table's background, the second row takes the cursor's.
        await pilot.press("down", "down")
        assert table.cursor_row == 2 and table.border_subtitle == "第 3 / 45 行"
        assert backgrounds(table, 3) == {cursor_bg}
        assert cursor_bg not in backgrounds(table, 1)
        assert_cursor_visible(table)


async def test_projects_table_cursor_in_both_themes(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer([{"name": "码上通", "type": "mashangtong", "path": str(SAMPLE_MST_CSV)}])
    seen = []
    for theme in ("dark", "light"):
        app = app_for(cfg, theme)
        async with app.run_test(size=(160, 45)) as pilot:
            await loaded(app, pilot)
            await pilot.press("p")
            await loaded(app, pilot)
            table = app.screen.query_one("#projects", VirtualTable)
            assert table.row_count == 23
            await pilot.press("down")
            seen.append(assert_cursor_visible(table))
            assert table.border_subtitle == "第 2 / 23 行"
    assert seen[0] != seen[1]  # each theme its own cursor colour


async def test_kiosk_tables_show_no_cursor_but_the_row_count() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    cfg.ui.kiosk = True
    app = make_app(cfg)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        table = app.screen.query_one("#items", VirtualTable)
        assert not table.show_cursor and table.border_subtitle == "共 45 行"
        assert backgrounds(table, 1) == backgrounds(table, 2)


@pytest.mark.parametrize("how", ["key", "click"])
async def test_after_a_sort_the_cursor_row_is_still_on_screen(how: str) -> None:
    app = make_app(load_config(DEFAULT_CONFIG))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        table = app.screen.query_one("#items", VirtualTable)
        await pilot.press("end")  # the last of 45 rows, at the bottom of a short table
        key, page = table.cursor_key, table.size.height - 1
        assert table.cursor_row == 44 and table.scroll_y > 0
        if how == "key":
            await pilot.press("s", "s")  # by 项目名称: the row moves up the table
        else:
            x = sum(w + 1 for _, w in table.column_layout[:1]) + 1
            await pilot.click(table, offset=(x, 0))
        await pilot.pause()
        assert table.sort_column == 1 and table.cursor_key == key
        assert table.cursor_row < 44
        top = round(table.scroll_y)
        assert top <= table.cursor_row < top + page
        assert_cursor_visible(table)
        assert table.border_subtitle.startswith(f"第 {table.cursor_row + 1} / 45 行")


async def test_each_theme_its_own_readable_cursor_and_t_switches_it() -> None:
    app = app_for(DEFAULT_CONFIG, "dark")
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        table = app.screen.query_one("#items", VirtualTable)
        assert backgrounds(table, 1) == {DARK.variables[CURSOR_VARIABLE].lower()}
        await pilot.press("t")
        await pilot.pause()
        assert app.current_theme.name == LIGHT.name
        assert backgrounds(table, 1) == {LIGHT.variables[CURSOR_VARIABLE].lower()}
        assert_cursor_visible(table)

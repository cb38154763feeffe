"""Issue 13, keys and help: `?` scrolls with the keyboard at once, the footer keeps
`? 全部按键` and `q 退出` at 80×24, and the command palette holds the app's own
commands only, each found by its Chinese and its English name."""

from __future__ import annotations

from typing import Any

from conftest import DEFAULT_CONFIG
from screen_text import loaded, screen_lines
from textual.command import CommandInput, CommandList, CommandPalette
from textual.containers import VerticalScroll

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.detail import ItemDetailScreen
from dashboard.ui.screens.help import HelpScreen


def sample_app(**ui: Any) -> DashboardApp:
    config = load_config(DEFAULT_CONFIG)
    for key, value in ui.items():
        setattr(config.ui, key, value)
    return make_app(config)


async def test_help_scrolls_to_its_end_with_end_and_pagedown_without_tab() -> None:
    app = sample_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help-box", VerticalScroll)
        await pilot.pause()
        assert box.has_focus and box.max_scroll_y > 10  # more keys than fit at 80×24
        await pilot.press("pagedown")
        await pilot.pause()
        assert box.scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
        last_key = app.screen.query_one("#help-keys").row_count  # type: ignore[attr-defined]
        assert last_key > 40
        assert any("全部 All" in line for line in screen_lines(app)[-6:])  # the alerts' last key
        await pilot.press("home")
        await pilot.pause()
        assert box.scroll_y == 0


async def test_footer_keeps_help_and_quit_at_80_by_24_on_every_screen() -> None:
    app = sample_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        for key in ("o", "u", "b", "p", "d", "w"):
            await pilot.press(key)
            await pilot.pause()
            footer = screen_lines(app)[-1]
            assert "? 全部按键" in footer and "q 退出" in footer, (key, footer)
        await pilot.press("o", "enter")  # item 45's detail, the worst first
        await pilot.pause()
        assert isinstance(app.screen, ItemDetailScreen)
        footer = screen_lines(app)[-1]
        assert "全部按键" in footer and "退出" in footer
        await pilot.press("escape", "d", "enter")  # a source's own screen
        await pilot.pause()
        assert type(app.screen).__name__ == "SourceDetailScreen"
        footer = screen_lines(app)[-1]
        assert "? 全部按键" in footer and "q 退出" in footer


async def palette_titles(app: DashboardApp, pilot: Any, query: str) -> list[str]:
    """What the real palette lists for `query` (Ctrl+P, typed in its input)."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    app.screen.query_one(CommandInput).value = query
    for _ in range(6):  # the palette searches in a worker, a little after the input changes
        await pilot.pause(0.05)
        await app.workers.wait_for_complete()
    options = app.screen.query_one(CommandList)
    titles = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    await pilot.press("escape")
    await pilot.pause()
    return titles


async def test_palette_finds_export_by_english_and_by_chinese() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        for query in ("export", "导出"):
            titles = await palette_titles(app, pilot, query)
            assert any(t.startswith("导出 Export") for t in titles), (query, titles)
        titles = await palette_titles(app, pilot, "refresh")
        assert any(t.startswith("刷新 Refresh") for t in titles)


async def test_palette_lists_only_the_apps_commands_and_one_quit() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        commands = list(app.get_system_commands(app.screen))
        titles = [str(c.title) for c in commands]
        assert not any("copy" in t.lower() or "screenshot" in t.lower() for t in titles)
        assert not any(t in {"Quit", "Keys", "Theme", "Maximize", "Minimize", "Screenshot"} for t in titles)
        assert sum("退出" in t or "quit" in t.lower() for t in titles) == 1
        for title in titles:  # each with both names: Chinese first, then English letters
            chinese = any("\u4e00" <= ch <= "\u9fff" for ch in title)
            assert chinese and any(ch.isascii() and ch.isalpha() for ch in title), title
        # The palette itself, searched for what Textual used to offer.
        for query in ("copy", "screenshot", "maximize"):
            assert await palette_titles(app, pilot, query) == [], query


async def test_read_only_palette_offers_no_ack_export_or_quit() -> None:
    app = sample_app(kiosk=True, kiosk_interval=3600)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("w")
        await pilot.pause()
        titles = [str(c.title) for c in app.get_system_commands(app.screen)]
        assert "刷新 Refresh" in titles and "预警 Alerts" in titles
        for word in ("确认 Acknowledge", "静默7天 Silence", "导出", "退出"):
            assert not any(t.startswith(word) for t in titles), word
        assert "已确认 Show acknowledged" in titles  # showing them is not changing them

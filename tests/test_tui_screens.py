"""The office-screen TUI, driven through Textual's pilot as a user would: every
screen, drill-down path and key of design §6, asserting on what the widgets hold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import DEFAULT_CONFIG, SAMPLE_CSV, SAMPLE_MST_CSV
from textual.widgets import DataTable, Digits, Input, Static

from dashboard.config import load_config
from dashboard.core.collate import collate_key
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.detail import ItemDetailScreen
from dashboard.ui.screens.help import HelpScreen
from dashboard.ui.screens.items import ItemListScreen, OverviewScreen
from dashboard.ui.widgets.item_table import ItemTable
from dashboard.ui.widgets.table import VirtualTable

SEVERE_NAME = "重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)"


async def loaded(app: DashboardApp, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def static_text(app: DashboardApp, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    return str(widget.render())


def sample_app(**ui: Any) -> DashboardApp:
    config = load_config(DEFAULT_CONFIG)
    for key, value in ui.items():
        setattr(config.ui, key, value)
    return make_app(config)


def items(app: DashboardApp) -> ItemTable:
    return app.screen.query_one("#items", ItemTable)


def names(table: VirtualTable[Any], column: int = 1) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


async def test_overview_headline_reads_the_september_bulletin() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert isinstance(app.screen, OverviewScreen)
        cards = {
            key: app.screen.query_one(f"#card-{key}", Digits).value
            for key in ("total", "done", "on_track", "lagging", "severe")
        }
        assert cards == {"total": "45", "done": "25", "on_track": "19", "lagging": "0", "severe": "1"}
        assert app.screen.query_one("#card-alerts", Digits).value == "1"  # item 45 fired 严重滞后
        line = static_text(app, "#asof-line")
        assert "截止 2024-09-30" in line and "序时进度" in line and "75%" in line and "更新于" in line
        assert "未处理预警 1" in app.sub_title
        first = items(app).get_row_at(0)
        assert str(first[1]) == SEVERE_NAME and str(first[2]) == "公安局交警大队"
        assert "32.0%" in str(first[5]) and "┃" in str(first[5])  # the bar carries the 75% marker
        assert str(first[6]) == "严重滞后"


async def test_filter_then_enter_opens_item_45_and_esc_comes_back_with_cursor_kept() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash", *"交警")
        assert items(app).row_count == 1
        assert "筛选「交警」" in static_text(app, "#view-note")
        await pilot.press("enter")  # leaves the filter box, keeps the filter
        assert items(app).has_focus and items(app).row_count == 1
        await pilot.press("enter")  # opens the item
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ItemDetailScreen) and screen.item_id == "45"
        fields = screen.query_one("#fields", DataTable)
        values = {str(fields.get_row_at(i)[0]): str(fields.get_row_at(i)[1]) for i in range(fields.row_count)}
        assert values["牵头单位 lead unit"] == "公安局交警大队"
        assert values["完成比例 ratio"] == "32.0%"
        assert values["序时进度 expected"] == "75%"
        assert values["任务数 target"] == "22" and values["进度情况 progress"] == "已完成隐患整改7处"
        sources = {str(fields.get_row_at(i)[2]) for i in range(fields.row_count)}
        assert "湘乡市9月通报" in sources
        figures = static_text(app, "#detail-figures")
        assert "公安局交警大队" in figures and "32.0%" in figures and "75%" in figures
        assert "落后 behind 43.0 个百分点" in figures and "落后始于 since" in figures
        alerts = static_text(app, "#item-alerts")
        assert "严重滞后" in alerts and "公安局交警大队" in alerts
        assert "32.0%" in static_text(app, "#history")  # the first recorded point
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        assert items(app).cursor_key == "45" and items(app).row_count == 1
        await pilot.press("enter", "o")  # the view's own key returns to its first screen
        assert isinstance(app.screen, OverviewScreen)


async def test_number_keys_filter_by_status_and_zero_shows_all() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        table = items(app)
        counts = {}
        for key in "12345":
            await pilot.press(key)
            counts[key] = table.row_count
            await pilot.press(key)  # the same key again shows every status
            assert table.row_count == 45
        assert counts == {"1": 25, "2": 19, "3": 0, "4": 1, "5": 0}
        await pilot.press("4")
        assert names(table) == [SEVERE_NAME]
        await pilot.press("0")
        assert table.row_count == 45


async def test_sort_by_key_and_by_header_click() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        table = items(app)
        for _ in range(6):  # default → 实事类别 → ... → 完成比例 (column 5)
            await pilot.press("s")
        assert table.sort_column == 5
        assert "32.0%" in str(table.get_row_at(0)[5])
        await pilot.press("S")  # reverse: the highest ratio first
        assert table.sort_reverse and "32.0%" in str(table.get_row_at(44)[5])
        # Clicking 牵头单位's header sorts by lead unit.
        x = sum(w + 1 for col, w in table.column_layout[:2]) + 1
        await pilot.click(table, offset=(x, 0))
        assert table.sort_column == 2
        units = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert units == sorted(units, key=collate_key)  # pinyin, as Excel sorts them


async def test_lead_units_worst_first_and_drill_down_keeps_the_cursor() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("u")
        units = app.screen.query_one("#units", VirtualTable)
        first = [str(c) for c in units.get_row_at(0)]
        assert first[0] == "公安局交警大队" and first[1] == "1" and first[5] == "1"  # 1 item, 1 severe
        assert SEVERE_NAME in first[6] and "32.0%" in first[6]
        assert first[7] == "1"  # its open alert
        await pilot.press("down", "down")
        unit = str(units.get_row_at(2)[0])
        await pilot.press("enter")
        assert isinstance(app.screen, ItemListScreen)
        listed = app.screen.query_one("#items", ItemTable)
        assert listed.row_count == int(str(units.get_row_at(2)[1]))
        assert {str(listed.get_row_at(i)[2]) for i in range(listed.row_count)} == {unit}
        await pilot.press("enter")
        assert isinstance(app.screen, ItemDetailScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, ItemListScreen)
        await pilot.press("escape")
        assert app.screen.query_one("#units", VirtualTable).cursor_row == 2


async def test_item_detail_from_unit_45_shows_since_when_and_monthly_updates_row() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("u", "enter", "enter")
        assert isinstance(app.screen, ItemDetailScreen) and app.screen.item_id == "45"
        assert "没有每月动态数据" in static_text(app, "#updates")  # the bulletin has no 3月…12月 columns


async def test_behind_screen_lists_the_lagging_and_severe_items() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("b")
        assert names(app.screen.query_one("#items", ItemTable)) == [SEVERE_NAME]


async def test_sources_screen_shows_state_times_and_counts() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("d")
        table = app.screen.query_one("#sources", VirtualTable)
        row = [str(c) for c in table.get_row_at(0)]
        assert row[0] == "湘乡市9月通报" and row[1] == "csv" and row[2] == "正常 ok" and row[5] == "45"
        assert row[3] != "—" and row[4] != "—" and row[7] == ""


async def test_failed_source_shows_its_error_and_keeps_the_others(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    cfg = config_writer(
        [
            {"name": "sample", "type": "csv", "path": str(SAMPLE_CSV)},
            {"name": "missing", "type": "csv", "path": str(tmp_path / "nope.csv")},
        ]
    )
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert items(app).row_count == 45
        assert "✗ missing" in static_text(app, "#status-bar")
        await pilot.press("d")
        rows = {
            str(r[0]): [str(c) for c in r]
            for r in (app.screen.query_one("#sources", VirtualTable).get_row_at(i) for i in range(2))
        }
        assert rows["missing"][2] == "失败 failed" and rows["missing"][7]
        assert rows["sample"][2] == "正常 ok"


async def test_alerts_screen_acknowledge_and_silence_from_the_keyboard() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("w")
        table = app.screen.query_one("#alerts", VirtualTable)
        assert table.row_count >= 1
        row = [str(c) for c in table.get_row_at(0)]
        assert row[0] == "未处理" and row[3] == SEVERE_NAME and row[4] == "公安局交警大队"
        await pilot.press("a", "enter")  # the ack dialog's defaults
        assert str(table.get_row_at(0)[0]) == "已确认"
        assert app.open_alert_count() == 0 and "未处理预警" not in static_text(app, "#status-bar")
        await pilot.press("m", *"week", "enter")  # the silence dialog needs a comment
        assert str(table.get_row_at(0)[0]) == "已静默"
        await pilot.press("1")  # only open ones: none left
        assert table.row_count == 0
        await pilot.press("0")
        await pilot.press("enter")  # the alert's item
        assert isinstance(app.screen, ItemDetailScreen) and app.screen.item_id == "45"
        await pilot.press("escape", "o")  # the overview's alert card follows
        assert app.screen.query_one("#card-alerts", Digits).value == "0"


async def test_refresh_keeps_cursor_and_scroll() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 24)) as pilot:
        await loaded(app, pilot)
        table = items(app)
        await pilot.press("pagedown", "down", "down")
        row, key, scroll = table.cursor_row, table.cursor_key, table.scroll_y
        assert scroll > 0
        await pilot.press("r")
        await loaded(app, pilot)
        assert (table.cursor_row, table.cursor_key, table.scroll_y) == (row, key, scroll)


async def test_export_writes_the_filtered_view_and_says_where(isolated_state: Path) -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("4", "e")
        await app.workers.wait_for_complete()  # the export runs in a worker thread
        await pilot.pause()
        files = list((isolated_state / "exports").glob("items-*"))
        assert len(files) == 1
        view = app.screen.export_view()
        assert len(view.rows) == 1 and view.rows[0][2] == SEVERE_NAME
        assert any("状态：严重滞后" in n for n in view.notes)


async def test_help_lists_every_key_and_palette_offers_every_action() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-keys", DataTable)
        keys = " ".join(str(c) for i in range(table.row_count) for c in table.get_row_at(i))
        for word in ("筛选", "导出", "确认", "排序", "返回", "刷新", "轮播"):
            assert word in keys
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        # Every app key and the screen's own are commands, by name (tests/test_tui_keys.py: English too).
        titles = " ".join(str(c.title) for c in app.get_system_commands(app.screen))
        for word in (
            "总览",
            "单位",
            "滞后",
            "项目",
            "数据源",
            "预警",
            "刷新",
            "全部按键",
            "明暗主题",
            "轮播模式",
        ):
            assert word in titles
        for word in ("退出", "筛选", "导出", "打开", "排序"):
            assert word in titles


async def test_theme_toggle_between_light_and_dark() -> None:
    app = sample_app(theme="light")
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "zhuanban-light"
        await pilot.press("t")
        assert app.theme == "zhuanban-dark"


async def test_narrow_terminal_keeps_name_ratio_and_status_columns() -> None:
    app = sample_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        table = items(app)
        shown = [col.label for col, _ in table.column_layout]
        assert {"项目名称", "完成比例", "状态"} <= set(shown) and "进度情况" not in shown
        assert sum(w for _, w in table.column_layout) + len(shown) - 1 <= 80
        assert len(table.get_row_at(0)) == 7  # every column still offered to tests and exports


async def test_projects_drill_down_for_mashangtong_data(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer([{"name": "码上通", "type": "mashangtong", "path": str(SAMPLE_MST_CSV)}])
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("p")
        projects = app.screen.query_one("#projects", VirtualTable)
        assert projects.row_count > 0
        code = str(projects.get_row_at(0)[0])
        indicators = int(str(projects.get_row_at(0)[3]))
        await pilot.press("enter")
        listed = app.screen.query_one("#items", ItemTable)
        assert isinstance(app.screen, ItemListScreen) and listed.row_count == indicators
        await pilot.press("enter")
        assert isinstance(app.screen, ItemDetailScreen)
        fields = app.screen.query_one("#fields", DataTable)
        assert code in {str(fields.get_row_at(i)[1]) for i in range(fields.row_count)}
        assert "✓" in static_text(app, "#updates")  # 码上通 carries 3月…12月动态


async def test_kiosk_rotates_pauses_on_a_key_and_hides_the_cursor() -> None:
    app = sample_app(kiosk=True, kiosk_interval=3600)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert not items(app).show_cursor
        seen = []
        for _ in range(4):
            app.kiosk_tick(now=0.0)
            await pilot.pause()
            seen.append(app.current_mode)
        assert seen == ["units", "behind", "alerts", "overview"]
        await pilot.press("question_mark")  # a dialog: rotation must not stop for it
        assert isinstance(app.screen, HelpScreen)
        paused_at = app.rotation.paused_until
        app.kiosk_tick(now=paused_at - 1)  # within the quiet minute: stays
        assert app.current_mode == "overview"
        app.kiosk_tick(now=paused_at + 1)  # a quiet minute later: rotates, dialog gone
        await pilot.pause()
        assert app.current_mode == "units" and not isinstance(app.screen, HelpScreen)
        assert "更新于" in static_text(app, "#status-bar")


async def test_kiosk_survives_a_failing_source(tmp_path: Path, config_writer: Callable[..., Path]) -> None:
    cfg = config_writer(
        [
            {"name": "sample", "type": "csv", "path": str(SAMPLE_CSV)},
            {"name": "gone", "type": "csv", "path": str(tmp_path / "x.csv")},
        ],
        extra='[ui]\nkiosk = true\nkiosk_interval = "1h"',
    )
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        for _ in range(4):
            app.kiosk_tick(now=0.0)
            await pilot.pause()
            assert "✗ gone" in static_text(app, "#status-bar")
        assert items(app).row_count == 45


async def test_enter_in_an_empty_filter_box_just_returns_to_the_table() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash")
        assert app.screen.query_one("#filter", Input).has_focus
        await pilot.press("escape")
        assert items(app).has_focus and items(app).row_count == 45


async def test_a_new_alert_rings_and_shows_in_the_header_without_a_toast() -> None:
    # A line in the header, not a toast: every toast mounts widgets Textual keeps (issue 12 soak).
    app = sample_app()
    toasts: list[str] = []
    bells: list[bool] = []
    notify, bell = app.notify, app.bell

    def spy_notify(message: str, **kwargs: Any) -> None:
        toasts.append(str(message))
        notify(message, **kwargs)

    def spy_bell() -> None:
        bells.append(True)
        bell()

    app.notify = spy_notify  # type: ignore[method-assign]
    app.bell = spy_bell  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert bells == [True]
        assert toasts == []
        header = app.screen.sub_title
        assert header.startswith("总览 Overview") and "新预警" in header
        assert "公安局交警大队" in header and "32.0%" in header
        await pilot.press("r")  # the same alert does not fire twice
        await loaded(app, pilot)
        assert bells == [True]
        await pilot.press("u")  # every view's header says it
        await pilot.pause()
        assert "公安局交警大队" in app.screen.sub_title
        app.clear_notifications()  # cleared with the toasts (and after ALERT_BANNER_SECONDS)
        await pilot.pause()
        assert app.screen.sub_title == "牵头单位 Lead units"


async def test_export_on_the_lead_units_and_alerts_screens(isolated_state: Path) -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("u", "e", "w", "e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        names_written = sorted(p.name.split("-")[0] for p in (isolated_state / "exports").iterdir())
        assert names_written == ["alerts", "units"]


async def test_command_palette_runs_an_action_by_its_chinese_name() -> None:
    from textual.command import CommandPalette

    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"单位")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "units"


async def test_filter_text_that_looks_like_markup_is_taken_literally() -> None:
    app = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash", *"[b]", "enter")
        assert items(app).row_count == 0
        assert "筛选「[b]」" in static_text(app, "#view-note")
        await pilot.press("u", "slash", *"[/]")
        assert app.screen.query_one("#units", VirtualTable).row_count == 0

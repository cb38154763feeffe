"""The TUI's `--as-of` from history (issue 15, "point in time"): on a date history holds
points before and after, the app shows that day's items as they stood, labelled 历史回看,
and evaluates, delivers and records nothing; a date outside history stays today's what-if."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from conftest import run_cli
from screen_text import loaded, screen_lines
from test_import import august_counts, config, write_months
from textual.widgets import Static

from dashboard.config import load_config
from dashboard.core.items import Status
from dashboard.runtime import Runtime
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.changes import ChangesScreen
from dashboard.ui.screens.detail import ItemDetailScreen
from dashboard.ui.screens.units import UnitsScreen
from dashboard.ui.widgets.trend import TrendPlot


def imported(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    files = write_months(tmp_path / "bulletins")
    cfg = config(tmp_path)
    proc = run_cli("import", str(tmp_path / "bulletins"), "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    return cfg, files


def app_at(cfg: Path, day: date) -> tuple[DashboardApp, list[str]]:
    """The app as `dashboard --as-of DAY` starts it, with the notices it shows recorded."""
    config_ = load_config(cfg)
    app = make_app(config_, Runtime(config_, as_of=day))
    shown: list[str] = []
    notify = app.notify

    def record(message: str, **kwargs: Any) -> None:
        shown.append(str(message))
        notify(message, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return app, shown


def store_rows(cfg: Path) -> tuple[int, int, int]:
    """(history points that carry their imported item, latest figures, alerts) as SQLite holds them."""
    path = load_config(cfg).store_path
    assert path is not None
    with sqlite3.connect(path) as conn:
        imported_points = conn.execute("SELECT COUNT(*) FROM item_history WHERE item IS NOT NULL").fetchone()[
            0
        ]
        latest = conn.execute("SELECT COUNT(*) FROM item_latest").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        alerts = (
            conn.execute("SELECT COUNT(*) FROM alert_state").fetchone()[0] if "alert_state" in tables else 0
        )
    return imported_points, latest, alerts


async def test_as_of_august_shows_augusts_counts_from_history_read_only(tmp_path: Path) -> None:
    cfg, files = imported(tmp_path)
    app, shown = app_at(cfg, date(2024, 8, 31))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert app.look_back == date(2024, 8, 31)
        snap = app.snapshot
        assert snap is not None and snap.as_of == date(2024, 8, 31)
        done, above, below = august_counts(files["august"], snap.expected)
        assert (done, above, below) == (26, 16, 3)  # not September's 25, 19, 1
        counts = snap.by_status
        assert counts[Status.DONE] == done and counts[Status.ON_TRACK] == above
        assert counts[Status.LAGGING] + counts[Status.SEVERE] == below
        ratio_45 = next(e.item.ratio for e in snap.evaluated if e.item.id == "45")
        assert ratio_45 == 0.32
        lines = screen_lines(app)
        assert "历史回看 2024-08-31" in lines[0], lines[0]  # the header
        assert any("截止 2024-08-31" in line and "67%" in line for line in lines), lines
        # Nothing that changes alerts or cases: `c` on the item list is refused and says why.
        await pilot.press("c")
        await pilot.pause()
        assert any("历史回看 2024-08-31：只读，不能立案督办" in s for s in shown), shown
        assert app.alert_records() == []
        await pilot.press("q")  # a look back is not the wall screen: `q` still quits
        await pilot.pause()
        assert app.return_code == 0, "q did not quit"  # None until the app exits
    # No alert state, no latest figures, and the imported points untouched (not re-recorded).
    assert store_rows(cfg) == (135, 0, 0)


async def test_a_date_after_history_stays_todays_what_if(tmp_path: Path) -> None:
    cfg, _ = imported(tmp_path)
    app, _ = app_at(cfg, date(2024, 10, 15))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        assert app.look_back is None and not app.read_only
        snap = app.snapshot
        assert snap is not None and snap.as_of == date(2024, 10, 15)
        # Today's September figures judged at 15 October: item 45 still at 32%.
        assert next(e.item.ratio for e in snap.evaluated if e.item.id == "45") == 0.32
        assert snap.by_status[Status.DONE] == 25
        assert "历史回看" not in screen_lines(app)[0]


async def test_the_changes_screen_lists_the_digests_sections_and_opens_an_item(tmp_path: Path) -> None:
    cfg, _ = imported(tmp_path)
    proc = run_cli("digest", "--config", str(cfg), "--json")
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(proc.stdout)
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        rows = [(r.section, r.item_id, r.before, r.after, r.detail) for r in screen.table.view_rows]
        # September's sample against the August file: 28 slipped from done, 26 and 27 recovered,
        # 45 behind in both months (on the line in July).
        assert rows[:4] == [
            ("状态变差", "28", "已完成 100.0%", "正常 95.0%", ""),
            ("状态好转", "26", "滞后 50.0%", "正常 87.4%", ""),
            ("状态好转", "27", "严重滞后 40.0%", "正常 76.0%", ""),
            ("连续滞后", "45", "", "严重滞后 32.0%", "连续2个月滞后"),
        ]
        # Then the unfinished items whose ratio did not move, 45 among them.
        unmoved = [r[1] for r in rows[4:]]
        assert {r[0] for r in rows[4:]} == {"比例未变"} and len(unmoved) == 17 and "45" in unmoved
        assert unmoved == [e["id"] for e in cli["unmoved"]]
        # The same items as `dashboard digest --json`.
        assert [c["id"] for c in cli["worse"]] == ["28"]
        assert [c["id"] for c in cli["better"]] == ["26", "27"]
        text = "".join(line.strip() for line in screen_lines(app))  # the paragraph wraps
        assert "变化 Changes  2024-08-31（序时 67%） → 2024-09-30（序时 75%）" in text
        assert "1项状态变差，2项好转" in text and "连续两个月滞后的有公安局交警大队" in text, text
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ItemDetailScreen) and app.screen.item_id == "45"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_changes_in_a_look_back_compare_that_day_with_the_bulletin_before(tmp_path: Path) -> None:
    cfg, _ = imported(tmp_path)
    app, _ = app_at(cfg, date(2024, 8, 31))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangesScreen) and screen.digest is not None
        assert (screen.digest.since, screen.digest.until) == (date(2024, 7, 31), date(2024, 8, 31))
        rows = {(r.section, r.item_id): (r.before, r.after) for r in screen.table.view_rows}
    # The August file against July's: 28 done, 45 fell behind (60% → 32%), 26 and 27 too.
    assert rows[("新增完成", "28")] == ("正常 95.0%", "已完成 100.0%")
    assert rows[("状态变差", "45")] == ("正常 60.0%", "严重滞后 32.0%")
    assert {i for s, i in rows if s == "状态变差"} == {"45", "26", "27"}


async def test_the_item_screen_in_a_look_back_ends_its_history_on_that_day(tmp_path: Path) -> None:
    cfg, _ = imported(tmp_path)
    app, _ = app_at(cfg, date(2024, 8, 31))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await app.push_screen(ItemDetailScreen("45"))
        await pilot.pause()
        history = str(app.screen.query_one("#history", Static).render())
        plot = str(app.screen.query_one("#trend", TrendPlot).render())
        figures = str(app.screen.query_one("#detail-figures", Static).render())
    assert "截至 2024-07-31" in history and "截至 2024-08-31" in history
    assert "2024-09-30" not in history
    assert "7月" in plot and "8月" in plot and "9月" not in plot
    assert "完成比例 32.0%" in figures and "落后始于 since 2024-08-31" in figures, figures


async def test_units_by_month_in_a_look_back_end_on_that_month(tmp_path: Path) -> None:
    cfg, _ = imported(tmp_path)
    app, _ = app_at(cfg, date(2024, 8, 31))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("u", "h")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, UnitsScreen) and screen.months is not None
        labels = [c.label for c in screen.months.columns]
        first = screen.months.view_rows[0]
    assert labels == ["牵头单位", "7月 完成/落后", "8月 完成/落后"]
    assert first.unit == "公安局交警大队" and first.months[date(2024, 8, 31)].behind_points == 34.7


async def test_changes_without_an_earlier_bulletin_say_so(tmp_path: Path) -> None:
    app = make_app(load_config(config(tmp_path)))  # no import: history holds today's data only
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChangesScreen) and screen.digest is not None
        assert not screen.digest.compared and screen.table.view_rows == []
        text = "".join(line.strip() for line in screen_lines(app))
    assert "无法比较变化" in text and "没有上一期通报可比较" in text, text
    assert "没有变化 nothing changed" not in text

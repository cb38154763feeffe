"""Issue 14 in the TUI: the alerts screen shows each alert's ladder level, `m` silences
by matcher with who and why (a comment is required), `a` records who and a comment,
`M` lists the silences (`x` ends one early), and the item screen shows the trail (留痕)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import SAMPLE_CSV, run_cli, write_every_rule_config
from screen_text import loaded, screen_lines
from textual.widgets import Input

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.ack_dialog import AckDialog
from dashboard.ui.screens.alerts import ALERT_COLUMNS, AlertsScreen
from dashboard.ui.screens.detail import ItemDetailScreen
from dashboard.ui.screens.silence_dialog import SilenceDialog
from dashboard.ui.screens.silences import SilencesScreen

AUTHOR, WHY = "张三", "7月动态已报省平台，待同步"
LEVEL = [c.label for c in ALERT_COLUMNS].index("级别")
UNTIL = [c.label for c in ALERT_COLUMNS].index("静默至")
WHO = [c.label for c in ALERT_COLUMNS].index("确认/静默人")


def sample_config(tmp_path: Path, user: str = "赵六") -> Path:
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'as_of = "2024-09-30"\n[user]\nname = "{user}"\n[[sources]]\nname = "通报"\ntype = "csv"\n'
        f"path = {json.dumps(str(SAMPLE_CSV))}\n",
        encoding="utf-8",
    )
    return config


def cells(screen: AlertsScreen, row: int) -> list[str]:
    return [str(c) for c in screen.table.get_row_at(row)]


async def open_alerts(app: DashboardApp, pilot: Any) -> AlertsScreen:
    await loaded(app, pilot)
    await pilot.press("w")
    screen = app.screen
    assert isinstance(screen, AlertsScreen)
    return screen


async def test_m_widened_to_the_rule_silences_all_18_missing_update_alerts(tmp_path: Path) -> None:
    config = write_every_rule_config(tmp_path, f'[user]\nname = "{AUTHOR}"\n')
    app = make_app(load_config(config))
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_alerts(app, pilot)
        rules = [r.rule for r in screen.table.view_rows]
        assert len(rules) == 23 and rules.count("missing_update") == 18
        screen.table.set_cursor(rules.index("missing_update"))
        await pilot.press("m")
        dialog = app.screen
        assert isinstance(dialog, SilenceDialog)
        assert dialog.query_one("#silence-by", Input).value == AUTHOR  # from [user] name
        assert dialog.query_one("#silence-until", Input).value == "7d"
        await pilot.click("#scope-rule")  # this rule, every unit
        dialog.query_one("#silence-comment", Input).value = WHY
        dialog.query_one("#silence-comment", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        held = [i for i, r in enumerate(screen.table.view_rows) if r.rule == "missing_update"]
        assert all(cells(screen, i)[WHO] == f"{AUTHOR} #1" for i in held)
        assert all(cells(screen, i)[UNTIL] != "—" for i in held)
        others = [i for i in range(screen.table.row_count) if i not in held]
        assert len(others) == 5 and all(cells(screen, i)[WHO] == "—" for i in others)
        assert "静默中 18 条" in str(screen.query_one("#view-note").render())
    done = run_cli("alerts", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert sum(a["silenced_by"] == 1 for a in listed["alerts"]) == 18
    (silence,) = listed["silences"]
    assert (silence["matchers"], silence["author"], silence["comment"]) == (
        {"rule": "missing_update"},
        AUTHOR,
        WHY,
    )


async def test_m_refuses_an_empty_comment_and_escape_changes_nothing(tmp_path: Path) -> None:
    app = make_app(load_config(sample_config(tmp_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alerts(app, pilot)
        await pilot.press("m")
        dialog = app.screen
        assert isinstance(dialog, SilenceDialog)
        await pilot.press("enter")  # no comment
        await pilot.pause()
        assert app.screen is dialog
        assert "必须写明原因" in str(dialog.query_one("#silence-error").render())
        assert any("必须写明原因" in line for line in screen_lines(app))  # visible at 80×24
        dialog.query_one("#silence-until", Input).value = "2020-01-01"
        dialog.query_one("#silence-comment", Input).value = WHY
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and "已经过去" in str(dialog.query_one("#silence-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        record = app.runtime.alerts.record("severe:45")
        assert record is not None and record.state == "open" and app.runtime.alerts.silences() == []
        assert [r["kind"] for r in app.runtime.alerts.trail("severe:45")] == ["fired"]


async def test_a_records_author_and_comment_and_the_item_screen_shows_the_trail(tmp_path: Path) -> None:
    app = make_app(load_config(sample_config(tmp_path)))
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_alerts(app, pilot)
        assert screen.table.row_count == 1
        assert cells(screen, 0)[LEVEL] == "提醒"  # a fresh alert: the ladder's first step
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, AckDialog)
        assert dialog.query_one("#ack-by", Input).value == "赵六"
        dialog.query_one("#ack-comment", Input).value = "已电话督促"
        await pilot.press("enter")
        await pilot.pause()
        assert cells(screen, 0)[0] == "已确认" and cells(screen, 0)[WHO] == "赵六"
        trail = app.runtime.alerts.trail("severe:45")
        assert [(r["kind"], r["actor"], r["comment"]) for r in trail] == [
            ("fired", "system", ""),
            ("acknowledged", "赵六", "已电话督促"),
        ]
        await pilot.press("enter")  # the alert's item: 45
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, ItemDetailScreen) and detail.item_id == "45"
        lines = str(detail.query_one("#item-trail").render()).splitlines()
        assert len(lines) == 2
        assert "system" in lines[0] and "触发" in lines[0] and "severe:45" in lines[0]
        assert "32.0%" in lines[0]  # the message as sent
        assert "赵六" in lines[1] and "确认" in lines[1] and "open → acknowledged" in lines[1]
        assert "「已电话督促」" in lines[1]


async def test_a_with_the_defaults_acknowledges_and_escape_does_not(tmp_path: Path) -> None:
    app = make_app(load_config(sample_config(tmp_path)))
    async with app.run_test(size=(160, 45)) as pilot:
        await open_alerts(app, pilot)
        await pilot.press("a", "escape")
        await pilot.pause()
        assert app.runtime.alerts.record("severe:45").state == "open"  # type: ignore[union-attr]
        await pilot.press("a", "enter")  # the quick path: Enter with the defaults
        await pilot.pause()
        record = app.runtime.alerts.record("severe:45")
        assert record is not None and record.state == "acknowledged" and record.acknowledged_by == "赵六"


async def test_the_silences_list_expires_a_silence_and_read_only_refuses(tmp_path: Path) -> None:
    config = sample_config(tmp_path)
    done = run_cli(
        "silence",
        "--rule",
        "severe",
        "--for",
        "7d",
        "--by",
        AUTHOR,
        "--comment",
        WHY,
        "--config",
        str(config),
    )
    assert done.returncode == 0, done.stderr
    cfg = load_config(config)
    cfg.ui.read_only = True
    app = make_app(cfg)
    shown: list[str] = []
    app.notify = lambda message, **kw: shown.append(str(message))  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_alerts(app, pilot)
        assert cells(screen, 0)[WHO] == f"{AUTHOR} #1"
        await pilot.press("m")
        assert app.screen is screen  # no dialog on the wall screen
        await pilot.press("M")
        await pilot.pause()
        silences = app.screen
        assert isinstance(silences, SilencesScreen)
        row = [str(c) for c in silences.table.get_row_at(0)]
        assert row[:6] == ["#1", "生效", "rule=severe", row[3], AUTHOR, WHY]
        await pilot.press("x")
        await pilot.pause()
        assert app.runtime.alerts.silences()[0].expired_at is None
        assert any("不能结束静默" in s for s in shown) and any("不能静默预警" in s for s in shown)


async def test_x_ends_a_silence_early_with_the_author_in_the_trail(tmp_path: Path) -> None:
    config = sample_config(tmp_path)
    done = run_cli(
        "silence",
        "--rule",
        "severe",
        "--for",
        "7d",
        "--by",
        AUTHOR,
        "--comment",
        WHY,
        "--config",
        str(config),
    )
    assert done.returncode == 0, done.stderr
    app = make_app(load_config(config))
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_alerts(app, pilot)
        await pilot.press("M")
        await pilot.pause()
        silences = app.screen
        assert isinstance(silences, SilencesScreen)
        await pilot.press("x")
        await pilot.pause()
        assert str(silences.table.get_row_at(0)[1]) == "已结束"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and cells(screen, 0)[WHO] == "—"  # held no more
    kinds = [(r["kind"], r["actor"]) for r in app.runtime.alerts.trail("silence:1")]
    assert kinds == [("silence_added", AUTHOR), ("silence_expired", "赵六")]


async def test_item_45_at_the_third_bulletin_reads_supervise_and_its_trail_shows_the_climb(
    tmp_path: Path,
) -> None:
    """as-of 09-30 and 10-07 by `dashboard check`, the TUI at 10-14: item 45's alert is at
    督办 in the level column (painted in the theme's error colour) and the note counts it;
    the item screen's trail shows 触发, 升级 to 预警 and to 督办, and the case opened."""
    config = sample_config(tmp_path)
    text = config.read_text(encoding="utf-8")
    for as_of in ("2024-09-30", "2024-10-07"):
        config.write_text(text.replace("2024-09-30", as_of), encoding="utf-8")
        done = run_cli("check", "--config", str(config))
        assert done.returncode == 0, done.stderr
    config.write_text(text.replace("2024-09-30", "2024-10-14"), encoding="utf-8")
    app = make_app(load_config(config))
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_alerts(app, pilot)
        assert screen.table.row_count == 1 and cells(screen, 0)[LEVEL] == "督办"
        assert "未解除 提醒 0 预警 0 督办 1" in str(screen.query_one("#view-note").render())
        error = screen.supervise_style().color
        assert error is not None and error.triplet is not None
        await pilot.press("enter")
        await pilot.pause()
        lines = str(app.screen.query_one("#item-trail").render()).splitlines()
    kinds = [next(k for k in ("触发", "升级", "立案") if k in line) for line in lines]
    assert kinds == ["触发", "升级", "升级", "立案"]
    assert "【预警】" in lines[1] and "【督办】" in lines[2] and "case:1" in lines[3]
    assert "2024-10-24" in lines[3]  # the deadline: as-of + 10 days

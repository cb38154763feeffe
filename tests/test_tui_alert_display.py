"""Issue 13, alert display: one state per alert (`m` then `a` reads 已确认, not also
静默至), critical above warning, the units view's 预警 counting what
`dashboard alerts --state open` counts, and a resolution said once in the detail."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from conftest import sample_rows, write_config, write_csv
from screen_text import loaded

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.alerts import ALERT_COLUMNS, AlertsScreen
from dashboard.ui.screens.detail import ItemDetailScreen
from dashboard.ui.screens.units import UNIT_COLUMNS, UnitsScreen

POLICE = "公安局交警大队"  # item 45's unit in the sample
STATE = [c.label for c in ALERT_COLUMNS].index("状态")
LEVEL = [c.label for c in ALERT_COLUMNS].index("严重度")
SILENCED_UNTIL = [c.label for c in ALERT_COLUMNS].index("静默至")
UNIT_ALERTS = [c.label for c in UNIT_COLUMNS].index("预警")


def police_csv(path: Path, ratio_45: str = "32.0%") -> Path:
    """The sample with three more of the police's items behind: 42 and 44 severe
    (critical), 43 lagging (warning); item 45 at `ratio_45`."""
    rows = sample_rows()
    for item, ratio in (("42", "5.0%"), ("43", "60.0%"), ("44", "10.0%"), ("45", ratio_45)):
        row = next(r for r in rows if r[0] == item)
        row[3], row[5], row[6] = POLICE, "推进中", ratio
    return write_csv(path, rows)


def police_app(tmp_path: Path) -> tuple[DashboardApp, Path, Path]:
    csv_path = police_csv(tmp_path / "police.csv")
    cfg = write_config(
        tmp_path, [{"name": "police", "type": "csv", "path": str(csv_path)}], extra="[alerts]\nenabled = true"
    )
    return make_app(load_config(cfg)), cfg, csv_path


def cells(screen: AlertsScreen, row: int) -> list[str]:
    return [str(c) for c in screen.table.get_row_at(row)]


async def test_critical_first_then_m_and_a_leave_one_state(tmp_path: Path) -> None:
    app, _cfg, _csv = police_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("w")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        levels = [cells(screen, i)[LEVEL] for i in range(screen.table.row_count)]
        assert len(set(levels[:3])) == 1 and levels[3] != levels[0]  # as shown, not only as stored
        severities = [r.severity for r in screen.table.view_rows]
        assert severities == sorted(severities, key=lambda s: {"critical": 0, "warning": 1}.get(s, 2))
        assert severities[:3] == ["critical"] * 3 and "warning" in severities
        await pilot.press("m", *"week", "enter", "a", "enter")  # silence the first, then acknowledge it
        row = next(
            cells(screen, i)
            for i in range(screen.table.row_count)
            if screen.table.view_rows[i].state == "acknowledged"
        )
        assert row[STATE] == "已确认" and row[SILENCED_UNTIL] == "—"
        assert screen.table.view_rows[0].severity == "critical"  # still critical first among the open


async def test_units_alert_count_is_the_cli_open_count(tmp_path: Path) -> None:
    app, cfg, _csv = police_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("w")
        await pilot.press("a", "enter")  # acknowledge one of the police's critical alerts (cursor follows)
        await pilot.press("home", "m", *"week", "enter")  # and silence the open one now first
        assert sum(r.state == "acknowledged" for r in app.runtime.alert_records()) == 1
        assert sum(r.state == "silenced" for r in app.runtime.alert_records()) == 1
        await pilot.press("u")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, UnitsScreen)
        police = next(u for u in screen.table.view_rows if u.unit == POLICE)
        shown = int(str(screen.table.get_row_at(screen.table.view_rows.index(police))[UNIT_ALERTS]))
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard", "alerts", "--state", "open", "--json", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    open_police = [a for a in json.loads(proc.stdout)["alerts"] if a["unit"] == POLICE]
    assert shown == len(open_police) == 2  # 4 alerts, one acknowledged, one silenced


async def test_detail_says_a_resolution_once(tmp_path: Path) -> None:
    app, _cfg, csv_path = police_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        police_csv(csv_path, ratio_45="100.0%")  # item 45 caught up
        await pilot.pause(0.5)  # past the file source's settle time
        await pilot.press("r")
        await loaded(app, pilot)
        (record,) = [r for r in app.runtime.alert_records() if r.item_id == "45"]
        assert record.state == "resolved" and record.message.startswith("已解除：")
        app.push_screen(ItemDetailScreen("45"))
        await pilot.pause()
        text = str(app.screen.query_one("#item-alerts").render())
        assert "[已解除] " in text and "[已解除] 已解除" not in text
        assert "已解除：" not in text


def test_cli_units_export_counts_open_alerts_like_alerts_state_open(tmp_path: Path) -> None:
    """`dashboard export --view units`'s 未处理预警 is the open count, as on the screen."""
    _app, cfg, _csv = police_app(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "dashboard", *args, "--config", str(cfg)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Traceback" not in proc.stderr
        return proc

    run("check")
    police = [a for a in json.loads(run("alerts", "--json").stdout)["alerts"] if a["unit"] == POLICE]
    assert len(police) == 4
    assert run("ack", police[0]["key"]).returncode == 0
    assert run("ack", police[1]["key"], "--for", "7d").returncode == 0
    open_police = [
        a
        for a in json.loads(run("alerts", "--state", "open", "--json").stdout)["alerts"]
        if a["unit"] == POLICE
    ]
    export = run("export", "--view", "units", "--format", "csv", "-o", "-")
    assert export.returncode == 0, export.stderr
    rows = list(csv.reader(io.StringIO(export.stdout.lstrip("\ufeff"))))
    header = next(r for r in rows if "未处理预警" in r)
    row = next(r for r in rows if r and r[0] == POLICE)
    assert int(row[header.index("未处理预警")]) == len(open_police) == 2

"""The TUI's `--as-of` from history (issue 15, "point in time"): on a date history holds
points before and after, the app shows that day's items as they stood, labelled 历史回看,
and evaluates, delivers and records nothing; a date outside history stays today's what-if."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from conftest import run_cli
from screen_text import loaded, screen_lines
from test_import import august_counts, config, write_months

from dashboard.config import load_config
from dashboard.core.items import Status
from dashboard.runtime import Runtime
from dashboard.ui.app import DashboardApp, make_app


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

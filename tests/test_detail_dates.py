"""The detail's dates are the data's (issue 13): `落后始于` is the as-of date of the data in
which the lag was first seen, said as "or earlier" when the first data seen was already
behind; history rows carry their data's date; an old store gains the as_of column."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from pathlib import Path

from conftest import sample_rows, write_config, write_csv
from textual.widgets import Static

from dashboard.config import load_config
from dashboard.runtime import Runtime
from dashboard.store import Store, history_key
from dashboard.ui.app import make_app
from dashboard.ui.screens.detail import ItemDetailScreen

AUGUST, SEPTEMBER = "2024-08-31", "2024-09-30"


def bulletin(folder: Path, ratio_45: str) -> Path:
    rows = sample_rows()
    for row in rows:
        if row[:1] == ["45"]:
            row[6] = ratio_45
    return write_csv(folder / "bulletin.csv", rows)


async def detail_of_45(cfg: Path) -> tuple[str, str]:
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.push_screen(ItemDetailScreen("45"))
        await pilot.pause()
        figures = str(app.screen.query_one("#detail-figures", Static).render())
        history = str(app.screen.query_one("#history", Static).render())
    return figures, history


def load(cfg: Path) -> None:
    runtime = Runtime(load_config(cfg))
    asyncio.run(runtime.refresh_all())
    runtime.close()


async def test_a_september_bulletin_first_seen_today_lags_since_its_own_date(tmp_path: Path) -> None:
    data = bulletin(tmp_path, "32.0%")
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], as_of=SEPTEMBER)
    figures, history = await detail_of_45(cfg)
    assert "落后始于 since 2024-09-30 或更早" in figures, figures  # not today's date
    assert f"{date.today():%Y-%m-%d}" not in figures
    assert "无历史" not in figures and "不详" not in figures
    assert "截至 2024-09-30" in history and "32.0%" in history and "序时 75%" in history


async def test_on_track_in_august_then_behind_in_september_lags_since_september(tmp_path: Path) -> None:
    data = bulletin(tmp_path, "70.0%")  # 70% against 8/12 = 66.7%: on track
    write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], as_of=AUGUST)
    cfg = tmp_path / "dashboard.toml"
    await asyncio.to_thread(load, cfg)
    bulletin(tmp_path, "32.0%")
    write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], as_of=SEPTEMBER)
    figures, history = await detail_of_45(cfg)
    assert "落后始于 since 2024-09-30" in figures and "或更早" not in figures, figures
    assert "截至 2024-08-31" in history and "70.0%" in history and "序时 67%" in history
    assert history.index("截至 2024-08-31") < history.index("截至 2024-09-30")


def test_history_points_keep_the_datas_as_of_and_an_old_store_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # a version-1 history table, with one old point
        conn.executescript(
            "CREATE TABLE schema_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL);"
            "INSERT INTO schema_versions VALUES ('history', 1);"
            "CREATE TABLE item_history (key TEXT NOT NULL, at TEXT NOT NULL, item_id TEXT NOT NULL,"
            " ratio REAL, actual REAL, target REAL, acceptance REAL, source TEXT NOT NULL DEFAULT '');"
            "INSERT INTO item_history VALUES ('k', '2024-09-01T08:00:00', '45', 0.2, 4, 22, NULL, 'x');"
        )
    store = Store(path)
    try:
        assert store.schema_version("history") == 2
        [old] = store.history("k")
        assert old.as_of is None and old.ratio == 0.2
        data = bulletin(tmp_path, "32.0%")
        runtime = Runtime(
            load_config(write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}]))
        )
        asyncio.run(runtime.refresh_all())
        items = runtime.items()
        runtime.close()
        assert store.record_history(items, as_of=date(2024, 9, 30)) == 45
        item45 = next(i for i in items if i.id == "45")
        [point] = store.history(history_key(item45))
        assert point.as_of == date(2024, 9, 30) and point.ratio == 0.32
    finally:
        store.close()

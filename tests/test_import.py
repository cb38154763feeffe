"""`dashboard import` (issue 15): past bulletins into the store's history, one point per
item and as-of date, dated by each file's title or name; history only. Must show: three
monthly files made from the sample (July, August, September, a few items moved) give three
points per item, `report --month 2024-08` gives August's counts (computed here from the
August file), and item 45 lags since the first month it was behind."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
from conftest import SAMPLE_CSV, run_cli, sample_rows, write_config, write_csv
from textual.widgets import Static

from dashboard.config import load_config
from dashboard.core.items import Item
from dashboard.store import Store, history_key
from dashboard.ui.app import make_app
from dashboard.ui.screens.detail import ItemDetailScreen

RATIO = 6  # 完成比例 in the sample's columns
# Items moved from the September sample: 45 on track in July (60% against 7/12), behind
# from August on; 26 and 27 below the line in August, 28 done in August.
JULY = {"45": "60.0%"}
AUGUST = {"45": "32.0%", "26": "50.0%", "27": "40.0%", "28": "100.0%"}
SEPTEMBER = {"27": "70.0%"}


def moved(changes: dict[str, str]) -> list[list[str]]:
    rows = sample_rows()
    for row in rows[1:]:
        if row[0] in changes:
            row[RATIO] = changes[row[0]]
    return rows


def write_months(folder: Path) -> dict[str, Path]:
    """July: another column layout and `承办单位` (the config's alias), dated by its name;
    August: a title row, a name without a date; September: an xlsx dated by its name."""
    folder.mkdir(exist_ok=True)
    july = moved(JULY)
    order = [6, 2, 0, 3, 1, 4, 5]  # 完成比例 first, 序号 third
    header = {"牵头单位": "承办单位", "任务数": "目标任务", "完成比例": "完成率"}
    july = [[header.get(row[i], row[i]) for i in order] for row in july]
    files = {"july": write_csv(folder / "2024-07.csv", july)}
    august = [["湘乡市2024年重点民生实事项目进展情况（截至2024年8月31日）"], *moved(AUGUST)]
    files["august"] = write_csv(folder / "xiangxiang-august.csv", august)
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in moved(SEPTEMBER):
        ws.append(row)
    files["september"] = folder / "xiangxiang-2024-09.xlsx"
    wb.save(files["september"])
    return files


def config(folder: Path) -> Path:
    """Today's data is the September sample; the configured CSV source knows `承办单位`."""
    source = {"name": "通报", "type": "csv", "path": str(SAMPLE_CSV), "aliases": {"unit": ["承办单位"]}}
    return write_config(folder, [source])


def august_counts(path: Path, expected: float) -> tuple[int, int, int]:
    """(done, at or above, below) of the August file, computed here from its cells."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[2:]  # the title row, the header
    counts: Counter[str] = Counter()
    for row in rows:
        text = row[RATIO].rstrip("%")
        ratio = float(text) / 100 if text else float(row[5]) / float(row[4])  # item 23: 535 of 455
        counts["done" if ratio >= 1 else "above" if ratio >= expected else "below"] += 1
    return counts["done"], counts["above"], counts["below"]


def history_rows(cfg: Path) -> list[tuple[str, str]]:
    path = load_config(cfg).store_path
    assert path is not None
    if not path.exists():
        return []  # nothing was ever written
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT key, as_of FROM item_history ORDER BY key, as_of").fetchall()


def test_three_monthly_files_give_three_points_per_item_dated_by_the_data(tmp_path: Path) -> None:
    write_months(tmp_path / "bulletins")
    cfg = config(tmp_path)
    proc = run_cli("import", str(tmp_path / "bulletins"), "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "✓ 2024-07.csv: 45 项，截至 2024-07-31（取自文件名 file name），警告 0 条" in out, out
    assert "✓ xiangxiang-august.csv: 45 项，截至 2024-08-31（取自标题行 title）" in out, out
    assert "✓ xiangxiang-2024-09.xlsx: 45 项，截至 2024-09-30（取自文件名 file name）" in out, out
    assert "135 个历史点" in out

    rows = history_rows(cfg)
    per_item = Counter(key for key, _ in rows)
    assert len(per_item) == 45 and set(per_item.values()) == {3}
    assert set(Counter(as_of for _, as_of in rows)) == {"2024-07-31", "2024-08-31", "2024-09-30"}
    store = Store(load_config(cfg).store_path or "")
    try:
        [sample_45] = [r for r in sample_rows() if r[0] == "45"]
        item45 = Item("45", sample_45[2], unit=sample_45[3])
        assert [(p.as_of, p.ratio) for p in store.history(history_key(item45))] == [
            (date(2024, 7, 31), 0.60),
            (date(2024, 8, 31), 0.32),
            (date(2024, 9, 30), 0.32),
        ]
        # History only: no source state, no current data written.
        assert store.conn.execute("SELECT COUNT(*) FROM source_state").fetchone()[0] == 0
        assert store.conn.execute("SELECT COUNT(*) FROM item_latest").fetchone()[0] == 0
    finally:
        store.close()

    # Importing the same files again (or today's data of the same as-of) never grows history.
    again = run_cli("import", str(tmp_path / "bulletins"), "--config", str(cfg), "--json")
    assert again.returncode == 0, again.stderr
    assert [f["as_of"] for f in json.loads(again.stdout)["files"]] == [
        "2024-07-31",
        "2024-09-30",
        "2024-08-31",
    ]
    checked = run_cli("check", "--config", str(cfg), "--json")
    assert checked.returncode == 0, checked.stderr
    assert len(history_rows(cfg)) == 135


def test_report_for_august_gives_augusts_counts_from_history(tmp_path: Path) -> None:
    files = write_months(tmp_path / "bulletins")
    cfg = config(tmp_path)
    assert run_cli("import", str(tmp_path / "bulletins"), "--config", str(cfg)).returncode == 0
    proc = run_cli(
        "report", "--config", str(cfg), "--month", "2024-08", "-o", str(tmp_path / "out"), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures["as_of"] == "2024-08-31" and abs(figures["expected"] - 8 / 12) < 1e-6
    done, above, below = august_counts(files["august"], figures["expected"])
    assert (figures["items"], figures["done"], figures["at_or_above"], figures["below"]) == (
        45,
        done,
        above,
        below,
    )
    assert (done, above, below) == (26, 16, 3)  # not September's 25, 19, 1
    assert {b["id"] for b in figures["below_items"]} == {"45", "26", "27"}
    [b45] = [b for b in figures["below_items"] if b["id"] == "45"]
    assert b45["ratio"] == 0.32
    assert any(n.startswith("历史回看 2024-08-31") for n in figures["notes"]), figures["notes"]

    # September is today's data: its report is today's figures.
    proc = run_cli(
        "report", "--config", str(cfg), "--month", "2024-09", "-o", str(tmp_path / "out"), "--json"
    )
    sept = json.loads(proc.stdout)
    assert (sept["done"], sept["at_or_above"], sept["below"]) == (25, 19, 1)


async def test_item_45_lags_since_the_first_month_it_was_behind(tmp_path: Path) -> None:
    write_months(tmp_path / "bulletins")
    cfg = config(tmp_path)
    assert run_cli("import", str(tmp_path / "bulletins"), "--config", str(cfg)).returncode == 0
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.push_screen(ItemDetailScreen("45"))
        await pilot.pause()
        figures = str(app.screen.query_one("#detail-figures", Static).render())
        history = str(app.screen.query_one("#history", Static).render())
    assert "落后始于 since 2024-08-31" in figures and "或更早" not in figures, figures
    assert (
        history.index("截至 2024-07-31") < history.index("截至 2024-08-31") < history.index("截至 2024-09-30")
    )


def test_a_file_without_a_date_asks_for_as_of_and_changes_nothing(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    dated = write_csv(tmp_path / "2024-08.csv", moved(AUGUST))
    undated = write_csv(tmp_path / "通报.csv", moved(JULY))
    proc = run_cli("import", str(dated), str(undated), "--config", str(cfg))
    assert proc.returncode == 2
    assert "通报.csv" in proc.stderr and "--as-of" in proc.stderr and "Traceback" not in proc.stderr
    assert history_rows(cfg) == []  # the dated file was not written either
    proc = run_cli("import", str(undated), "--as-of", "2024-07-31", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert "截至 2024-07-31（取自 --as-of）" in proc.stdout
    assert {as_of for _, as_of in history_rows(cfg)} == {"2024-07-31"}


def test_two_files_for_one_month_the_later_wins_and_it_says_so(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    folder = tmp_path / "august"
    folder.mkdir()
    mid = write_csv(folder / "通报-2024-08-20.csv", moved({"45": "20.0%"}))
    end = write_csv(folder / "2024-08.csv", moved(AUGUST))
    # Same date in the names: the file written later wins.
    also_end = write_csv(folder / "xiangxiang-2024-08.csv", moved({"45": "33.0%"}))
    os.utime(end, (datetime(2024, 9, 1).timestamp(),) * 2)
    os.utime(also_end, (datetime(2024, 9, 2).timestamp(),) * 2)
    proc = run_cli("import", str(folder), "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert "2024年8月有 3 个文件：采用较新的 xiangxiang-2024-08.csv（截至 2024-08-31）" in proc.stdout, (
        proc.stdout
    )
    assert f"– {mid.name}" in proc.stdout and f"– {end.name}" in proc.stdout
    rows = history_rows(cfg)
    assert len(rows) == 45 and {as_of for _, as_of in rows} == {"2024-08-31"}
    store = Store(load_config(cfg).store_path or "")
    try:
        [sample_45] = [r for r in sample_rows() if r[0] == "45"]
        [point] = store.history(history_key(Item("45", sample_45[2], unit=sample_45[3])))
        assert point.ratio == 0.33
    finally:
        store.close()


def test_a_fetch_of_the_same_as_of_replaces_that_dates_point(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    try:
        items = [Item("45", "临水临崖", unit="公安局交警大队", ratio=0.32)]
        key = history_key(items[0])
        assert store.record_history(items, datetime(2024, 10, 2, 8), date(2024, 9, 30)) == 1
        moved_items = [Item("45", "临水临崖", unit="公安局交警大队", ratio=0.40)]
        assert store.record_history(moved_items, datetime(2024, 10, 3, 8), date(2024, 9, 30)) == 1
        assert [(p.as_of, p.ratio) for p in store.history(key)] == [(date(2024, 9, 30), 0.40)]
        # The next bulletin adds a point; the same figures again add nothing.
        assert store.record_history(items, datetime(2024, 11, 1, 8), date(2024, 10, 31)) == 1
        assert store.record_history(items, datetime(2024, 11, 1, 9), date(2024, 10, 31)) == 0
        assert [p.ratio for p in store.history(key)] == [0.40, 0.32]
    finally:
        store.close()

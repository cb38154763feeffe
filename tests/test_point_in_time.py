"""Point in time (issue 15): `dashboard check --as-of DATE` and `dashboard report --month`
show the items as they stood on a past date, from history, labelled `历史回看 DATE`; an item
history has no point for by then says so instead of borrowing a later figure."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SAMPLE_COUNTS, SAMPLE_CSV, run_cli, sample_rows, write_config, write_csv

from dashboard.config import load_config
from dashboard.store import Store

# August: item 45 at 30%, items 26 and 27 below 8/12; five items not in that bulletin yet.
AUGUST = {"45": "30.0%", "26": "50.0%", "27": "40.0%"}
LATE = {"1", "2", "3", "4", "5"}  # done items, first reported in September


def august_file(folder: Path) -> Path:
    rows = [r for r in sample_rows() if r[0] not in LATE]
    for row in rows[1:]:
        row[6] = AUGUST.get(row[0], row[6])
    return write_csv(folder / "2024-08.csv", rows)


def setup(tmp_path: Path) -> Path:
    """Today's data: the September sample (recorded by a check); August imported."""
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    assert run_cli("check", "--config", str(cfg)).returncode == 0
    proc = run_cli("import", str(august_file(tmp_path)), "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    return cfg


def test_check_as_of_a_past_date_reads_history_and_says_so(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    proc = run_cli("check", "--as-of", "2024-08-31", "--json", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["history"] is True and report["as_of"] == "2024-08-31"
    assert report["history_note"].startswith("历史回看 2024-08-31")
    # 40 items from August's bulletin (20 done, 17 on track, 3 behind); 5 without a figure then.
    assert sorted(report["history_without_figure"], key=int) == sorted(LATE, key=int)
    assert report["by_status"]["unknown"] == 5
    assert report["by_status"]["done"] == SAMPLE_COUNTS["done"] - len(LATE)
    assert {b["id"] for b in report["behind"]} == {"45", "26", "27"}
    assert [b["ratio"] for b in report["behind"] if b["id"] == "45"] == [0.3]
    assert report["alerts"]["evaluated"] is False and report["alerts"]["fired"] == []

    text = run_cli("check", "--as-of", "2024-08-31", "--config", str(cfg))
    assert text.returncode == 0, text.stderr
    first = text.stdout.splitlines()[0]
    assert first.startswith("历史回看 2024-08-31") and "5 个项目在该日之前没有记录" in first, first

    # The look back recorded nothing: history is still one September and one August point per item.
    store = Store(load_config(cfg).store_path or "")
    try:
        days = store.conn.execute("SELECT as_of, COUNT(*) FROM item_history GROUP BY as_of ORDER BY as_of")
        assert [tuple(r) for r in days] == [("2024-08-31", 40), ("2024-09-30", 45)]
    finally:
        store.close()


def test_check_as_of_today_or_before_any_history_is_the_what_if_it_was(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    for day in ("2024-09-30", "2024-07-31"):  # the data's own date; before all history
        proc = run_cli("check", "--as-of", day, "--json", "--config", str(cfg))
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["history"] is False and "history_note" not in report
        assert report["items"] == 45 and report["by_status"]["unknown"] == 0


def test_report_for_august_counts_items_without_a_figure(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    proc = run_cli(
        "report", "--month", "2024-08", "--config", str(cfg), "-o", str(tmp_path / "out"), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert (
        figures["items"],
        figures["done"],
        figures["at_or_above"],
        figures["below"],
        figures["unknown"],
    ) == (
        45,
        20,
        17,
        3,
        5,
    )
    assert any("5 个项目在该日之前没有记录" in n for n in figures["notes"]), figures["notes"]


def test_report_for_a_month_history_does_not_reach_uses_todays_data_and_says_so(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    proc = run_cli("report", "--month", "2024-07", "--config", str(cfg), "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert "进度历史中没有 2024-07-31 及以前的数据" in proc.stdout and "dashboard import" in proc.stdout

"""`as_of = "auto"` takes the bulletin's own date: its title rows (CSV, 码上通) or the
latest 更新时间 (码上通), and says when it fell back to today (issue 13)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest
from conftest import SAMPLE_MST_CSV, run_cli, sample_rows, write_config, write_csv

from dashboard.config import load_config
from dashboard.core.as_of import latest_update, title_as_of
from dashboard.runtime import AS_OF_TODAY_NOTE, Runtime


def titled(folder: Path, *title: str) -> Path:
    return write_csv(folder / "bulletin.csv", [[t] for t in title] + sample_rows())


def snapshot_of(cfg: Path):  # type: ignore[no-untyped-def]
    runtime = Runtime(load_config(cfg))
    try:
        asyncio.run(runtime.refresh_all())
        return runtime.snapshot()
    finally:
        runtime.close()


def test_auto_reads_2024_10_31_from_the_title_row(tmp_path: Path) -> None:
    data = titled(tmp_path, "湘乡市2024年重点民生实事项目进展情况（截至2024年10月31日）")
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], as_of="auto")
    done = run_cli("check", "--json", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # 10 of 12 months: expected 83.3%, and the 45 items are still read below the title.
    assert report["as_of"] == "2024-10-31" and report["expected"] == pytest.approx(10 / 12)
    assert report["items"] == 45
    assert report["as_of_source"] == "data" and report["as_of_note"] == "截止日期取自数据「通报」"
    snap = snapshot_of(cfg)
    assert snap.as_of == date(2024, 10, 31) and snap.as_of_source == "data"
    assert snap.as_of_note == "截止日期取自数据「通报」"


def test_month_titles_mean_the_months_last_day() -> None:
    assert title_as_of([["湘乡市2024年10月份重点民生实事进展通报"]]) == date(2024, 10, 31)
    assert title_as_of([["2024年1-10月重点民生实事完成情况"]]) == date(2024, 10, 31)
    assert title_as_of([["１－９月民生实事进度"]], 2023) == date(2023, 9, 30)  # full-width, no year
    assert title_as_of([["1-2月进度", ""], ["填报时间：2024年3月5日"]]) == date(2024, 3, 5)
    assert title_as_of([["1-2月进度"], ["2024年"]]) == date(2024, 2, 29)  # the title's year, leap
    assert title_as_of([["截止2024.9.30"]]) == date(2024, 9, 30)
    assert title_as_of([["湘乡市重点民生实事项目清单 导出时间：2024-09-27 10:21"]]) is None
    assert title_as_of([["重点民生实事"], ["2024年13月份"]]) is None
    assert latest_update(["2024/9/22", "2024年10月1日", "2024-09-30 10:00", "2024-13-45 x", ""]) == date(
        2024, 10, 1
    )
    assert latest_update(["2024-09-05 12:05", "2024-09-22 14:57"]) == date(2024, 9, 22)
    assert latest_update(["", "不详"]) is None


def test_a_title_without_a_year_takes_the_year_of_the_latest_update(tmp_path: Path) -> None:
    rows = sample_rows()
    rows[0] = [*rows[0], "更新时间"]
    for row in rows[1:]:
        row.append("2023-10-28 09:00")
    data = write_csv(tmp_path / "b.csv", [["1-10月民生实事进度"], *rows])
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], as_of="auto")
    assert snapshot_of(cfg).as_of == date(2023, 10, 31)


def test_mashangtong_auto_takes_the_latest_update_time(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path, [{"name": "码上通", "type": "mashangtong", "path": str(SAMPLE_MST_CSV)}], as_of="auto"
    )
    snap = snapshot_of(cfg)
    values = [e.item.updated_at for e in snap.evaluated]
    assert snap.as_of == latest_update(values) and snap.as_of.isoformat() == max(v[:10] for v in values if v)
    assert snap.as_of_source == "data"


def test_no_date_anywhere_falls_back_to_today_and_says_so(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "plain.csv", sample_rows())
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], as_of="auto")
    snap = snapshot_of(cfg)
    assert snap.as_of == date.today() and snap.as_of_source == "today"
    assert snap.as_of_note == AS_OF_TODAY_NOTE and "截止日期取自今天：数据中没有截止日期" in AS_OF_TODAY_NOTE
    fixed = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}])
    assert snapshot_of(fixed).as_of_source == "config"


async def test_the_headline_says_when_the_date_is_only_today(tmp_path: Path) -> None:
    from textual.widgets import Static

    from dashboard.ui.app import make_app

    data = write_csv(tmp_path / "plain.csv", sample_rows())
    for as_of, shown in (("auto", True), ("2024-09-30", False)):
        cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], as_of=as_of)
        app = make_app(load_config(cfg))
        async with app.run_test(size=(160, 45)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            line = str(app.screen.query_one("#asof-line", Static).render())
            assert ("截止日期取自今天：数据中没有截止日期" in line) is shown, line
            assert (f"截止 {date.today():%Y-%m-%d}" if shown else "截止 2024-09-30") in line

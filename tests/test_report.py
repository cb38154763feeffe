"""`dashboard report`: the September 2024 bulletin's annexes, rebuilt from the sample
(the bulletin CSV merged with the 码上通 export) and checked cell by cell."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import DEFAULT_CONFIG, SAMPLE_CSV, SAMPLE_MST_XLSX, SAMPLE_UPDATES, run_cli

from dashboard.config import load_config
from dashboard.core.progress import Thresholds, evaluate
from dashboard.plugins import PluginManager
from dashboard.report import (
    BulletinReport,
    build_report,
    month_end,
    parse_month,
    report_from_snapshot,
    write_report,
)
from dashboard.runtime import Runtime

SEPT = date(2024, 9, 30)
ANNEX_HEADER = ["序号", "实事类别", "项目名称", "牵头单位", "任务数", "进度情况", "完成比例"]

# The bulletin and the 码上通 export, merged into the same 45 items by name + lead unit.
SOURCES = [
    {"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)},
    {"name": "码上通", "type": "mashangtong", "path": str(SAMPLE_MST_XLSX)},
]


def annex4_expected() -> list[list[str]]:
    """The bulletin's annex 4 (the bundled copy of shared/data), ✓ as 1 and blank as 0."""
    with SAMPLE_UPDATES.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        [r["主要责任单位"], r["考核项目"], *("1" if r[f"{m}月份"].strip() else "0" for m in range(3, 10))]
        for r in rows
    ]


@pytest.fixture
def report(config_writer: Callable[..., Path]) -> BulletinReport:
    """The September report, from both sources through the runtime, as `dashboard report` builds it."""
    runtime = Runtime(load_config(config_writer(SOURCES, as_of="auto")), as_of=SEPT)
    asyncio.run(runtime.refresh_all())
    snap = runtime.snapshot()
    assert len(snap.evaluated) == 45 and all(s.ok for s in snap.sources)
    return report_from_snapshot(snap)


def test_month_and_its_as_of_date() -> None:
    assert parse_month("2024-09") == (2024, 9)
    assert month_end(2024, 9) == SEPT and month_end(2024, 2) == date(2024, 2, 29)
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month("2024-13")


def test_september_figures(report: BulletinReport) -> None:
    assert report.expected == pytest.approx(0.75)
    assert (report.total, len(report.done), len(report.at_or_above), len(report.below)) == (45, 25, 19, 1)
    assert report.unknown == []
    [severe] = report.below
    assert (severe.item.id, severe.item.unit, severe.item.ratio) == (
        "45",
        "公安局交警大队",
        pytest.approx(0.32),
    )
    assert report.months == [3, 4, 5, 6, 7, 8, 9]
    assert len(report.projects) == 23 and report.no_update == []  # every project posted in September
    summary = report.summary()
    assert "45个重点民生实事项目中，已完成25个，达到或超过序时进度（75%）19个，低于序时进度1个" in summary
    assert "公安局交警大队" in summary and "32.0%" in summary


def test_projects_without_an_update_in_the_month_are_named(report: BulletinReport) -> None:
    # The same items reported for May: annex 4 runs 3月..5月, and the summary names
    # every project with no update in May (the blanks of the bulletin's 5月份 column).
    may = date(2024, 5, 31)
    evaluated = [e.item for e in report.done + report.at_or_above + report.below]
    may_report = build_report(evaluate(evaluated, 5 / 12, Thresholds()), may, 5 / 12)
    assert may_report.months == [3, 4, 5]
    blank_in_may = [row[1] for row in annex4_expected() if row[4] == "0"]
    assert [p.name for p in may_report.no_update] == blank_in_may
    assert len(blank_in_may) == 12
    assert f"本月（5月）{len(blank_in_may)}个未更新动态" in may_report.summary()
    assert may_report.figures()["no_update"][0]["name"] == blank_in_may[0]


def test_annexes_are_grouped_by_lead_unit(report: BulletinReport) -> None:
    for group in (report.done, report.at_or_above):
        units = [e.item.unit for e in group]
        seen: list[str] = []
        for unit in units:
            if not seen or seen[-1] != unit:
                assert unit not in seen, f"{unit} appears in two places"
                seen.append(unit)
    # Units in bulletin order: 民政局 (items 1–6) opens annex 1.
    assert [e.item.id for e in report.done[:6]] == ["1", "2", "3", "4", "5", "6"]


def test_workbook_and_markdown(report: BulletinReport, tmp_path: Path) -> None:
    written = write_report(report, tmp_path, PluginManager(), title="湘乡市")
    assert set(written) == {"xlsx", "md"}
    assert written["xlsx"].name == "bulletin-2024-09.xlsx"
    check_workbook(written["xlsx"], cases=False)
    md = written["md"].read_text(encoding="utf-8")
    assert md.startswith("# 湘乡市 2024年9月 重点民生实事通报附件")
    for heading in (
        "## 附件1：已完成的项目（25个）",
        "## 附件2：达到或超过序时进度的项目（19个）",
        "## 附件3：低于序时进度的项目（1个）",
        "## 附件4：2024年省重点民生实事项目每月动态更新情况",
    ):
        assert heading in md
    annex3 = md.split("## 附件3")[1].split("## 附件4")[0]
    assert (
        "| 1 | 湘潭市实事 | 重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处) | 公安局交警大队 | 22 | 已完成隐患整改7处 | 32.0% |"
        in annex3
    )


def sheet_rows(ws: Any, header_first: str = "序号") -> tuple[list[str], list[list[Any]]]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    index = next(i for i, r in enumerate(rows) if r[0] == header_first)
    return [str(c) for c in rows[index]], [r for r in rows[index + 1 :] if r[0] is not None]


def check_workbook(path: Path, months: int = 7, cases: bool = True) -> None:
    """What the team files for September, read back with openpyxl (`dashboard report` adds
    附件5 督办事项; a report built without cases has none)."""
    wb = openpyxl.load_workbook(path)
    assert (
        wb.sheetnames[: 6 if cases else 5]
        == [
            "说明",
            "附件1 已完成",
            "附件2 达到或超过序时进度",
            "附件3 低于序时进度",
            "附件4 每月动态更新",
            "附件5 督办事项",  # the month's 督办 cases (tests/test_report_cases.py)
        ][: 6 if cases else 5]
    )
    # `dashboard report` adds 附件6 变化 and 附件7 红黑榜 after 附件5 (tests/test_digest.py).
    assert wb.sheetnames[6:] == (["附件6 变化", "附件7 红黑榜"] if cases else [])

    _, summary = sheet_rows(wb["说明"], "项目")
    figures = {r[0]: r[1] for r in summary}
    assert figures["项目总数"] == 45 and figures["已完成"] == 25
    assert (
        figures["达到或超过序时进度"] == 19
        and figures["低于序时进度"] == 1
        and figures["本月未更新动态"] == 0
    )

    for sheet, count in (("附件1 已完成", 25), ("附件2 达到或超过序时进度", 19), ("附件3 低于序时进度", 1)):
        header, rows = sheet_rows(wb[sheet])
        assert header == ANNEX_HEADER
        assert len(rows) == count
        assert [r[0] for r in rows] == list(range(1, count + 1))  # numbered 1..n
        assert all(isinstance(r[6], float | int) and r[6] > 0 for r in rows)  # typed percents
    header, [severe] = sheet_rows(wb["附件3 低于序时进度"])
    assert severe[3] == "公安局交警大队" and severe[4] == 22 and severe[6] == pytest.approx(0.32)
    assert "%" in wb["附件3 低于序时进度"].cell(wb["附件3 低于序时进度"].max_row, 7).number_format
    _, done = sheet_rows(wb["附件1 已完成"])
    assert all(r[6] >= 1 for r in done)
    _, above = sheet_rows(wb["附件2 达到或超过序时进度"])
    assert all(0.75 <= r[6] < 1 for r in above)

    header, monthly = sheet_rows(wb["附件4 每月动态更新"])
    assert header == ["序号", "主要责任单位", "考核项目", *(f"{m}月份" for m in range(3, 3 + months))]
    assert len(monthly) == 23
    got = [[r[1], r[2], *("1" if r[i] == "√" else "0" for i in range(3, 3 + months))] for r in monthly]
    assert got == [row[: 2 + months] for row in annex4_expected()]


def test_report_command_writes_the_annexes(
    config_writer: Callable[..., Path], tmp_path: Path, isolated_state: Path
) -> None:
    cfg = config_writer(SOURCES, extra='[export]\ndir = "exports"', as_of="auto")
    proc = run_cli("report", "--config", str(cfg), "--month", "2024-09", "--json")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures["as_of"] == "2024-09-30" and figures["expected"] == 0.75
    assert (figures["items"], figures["done"], figures["at_or_above"], figures["below"]) == (45, 25, 19, 1)
    assert figures["projects"] == 23 and figures["no_update"] == []
    xlsx = Path(figures["files"]["xlsx"])
    assert xlsx.parent == tmp_path / "exports"  # [export] dir, relative to the config
    check_workbook(xlsx)
    assert Path(figures["files"]["md"]).is_file()
    assert not list(isolated_state.glob("*.jsonl"))  # a report sends no alerts

    # August: as of 31 August (序时进度 8/12), annex 4 stops at 8月份; -o picks the folder.
    out = tmp_path / "august"
    proc = run_cli("report", "--config", str(cfg), "--month", "2024-08", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "截至2024年8月31日" in proc.stdout and "（67%）" in proc.stdout
    _, monthly = sheet_rows(openpyxl.load_workbook(out / "bulletin-2024-08.xlsx")["附件4 每月动态更新"])
    assert len(monthly[0]) == 3 + 6


def test_report_on_the_bundled_configuration(tmp_path: Path) -> None:
    proc = run_cli("report", "--config", str(DEFAULT_CONFIG), "--month", "2024-09", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    check_workbook(tmp_path / "bulletin-2024-09.xlsx")


def test_report_without_monthly_data_says_so(config_writer: Callable[..., Path], tmp_path: Path) -> None:
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    proc = run_cli("report", "--config", str(cfg), "--month", "2024-09", "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert "附件4为空" in proc.stdout
    wb = openpyxl.load_workbook(tmp_path / "out" / "bulletin-2024-09.xlsx")
    assert len(sheet_rows(wb["附件1 已完成"])[1]) == 25
    assert sheet_rows(wb["附件4 每月动态更新"])[1] == []


@pytest.mark.parametrize("month", ["2024-13", "2024/09", "九月"])
def test_bad_month_is_a_usage_error(month: str) -> None:
    proc = run_cli("report", "--month", month)
    assert proc.returncode == 2
    assert "--month" in proc.stderr and "YYYY-MM" in proc.stderr

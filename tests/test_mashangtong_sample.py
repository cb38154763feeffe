"""The bundled 码上通 sample export (tools/make_mashangtong_sample.py) matches the shared data."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
XLSX = REPO / "dashboard" / "data" / "mashangtong-2024-09.xlsx"
CSV = REPO / "dashboard" / "data" / "mashangtong-2024-09.csv"
MONTHS = range(3, 10)

Rows = Callable[[], list[dict[str, Any]]]


def xlsx_rows() -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(XLSX).active
    header = [c.value for c in ws[2]]
    return [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)]


def csv_rows() -> list[dict[str, Any]]:
    with CSV.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    return [dict(zip(lines[1], r, strict=True)) for r in lines[2:]]


def test_bundled_files_exist() -> None:
    assert XLSX.is_file()
    assert CSV.is_file()


@pytest.mark.parametrize("load", [xlsx_rows, csv_rows], ids=["xlsx", "csv"])
def test_indicators_and_projects(load: Rows) -> None:
    rows = load()
    assert len(rows) == 34
    assert len({r["项目编码"] for r in rows}) == 23
    assert len({r["指标名称"] for r in rows}) == 34
    assert all("省实事" in str(r["实事类别"]) for r in rows)


@pytest.mark.parametrize("load", [xlsx_rows, csv_rows], ids=["xlsx", "csv"])
def test_monthly_marks_equal_annex4(load: Rows) -> None:
    if not (SHARED / "xiangxiang-2024-monthly-updates.csv").is_file():
        pytest.skip("shared data not available")
    with (SHARED / "xiangxiang-2024-monthly-updates.csv").open(encoding="utf-8-sig") as f:
        annex = {
            r["考核项目"]: [1 if r[f"{m}月份"].strip() else 0 for m in MONTHS] for r in csv.DictReader(f)
        }
    rows = load()
    assert {r["项目名称"] for r in rows} == set(annex)
    for r in rows:
        assert [int(r[f"{m}月动态"]) for m in MONTHS] == annex[r["项目名称"]], r["指标名称"]
        assert all(r[f"{m}月动态"] in (None, "") for m in (10, 11, 12))


def test_names_match_bulletin() -> None:
    if not (SHARED / "xiangxiang-2024-09.csv").is_file():
        pytest.skip("shared data not available")
    with (SHARED / "xiangxiang-2024-09.csv").open(encoding="utf-8-sig") as f:
        bulletin = {(r["项目名称"], r["牵头单位"]) for r in csv.DictReader(f) if "省实事" in r["实事类别"]}
    assert {(r["指标名称"], r["责任单位"]) for r in xlsx_rows()} == bulletin


def test_csv_has_bom() -> None:
    assert CSV.read_bytes().startswith(b"\xef\xbb\xbf")


def test_xlsx_ratio_cells_are_numeric_percent() -> None:
    ws = openpyxl.load_workbook(XLSX).active
    column = [c.value for c in ws[2]].index("完成率") + 1
    cells = [ws.cell(row=r, column=column) for r in range(3, ws.max_row + 1)]
    filled = [c for c in cells if c.value is not None]
    assert len(filled) == 33  # item 23's ratio is left for the loader to compute
    for cell in filled:
        assert isinstance(cell.value, (int, float)), cell.coordinate
        assert "%" in cell.number_format, cell.coordinate
        assert 0 < cell.value < 2

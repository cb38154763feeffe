"""Numbers a hostile export holds (issue 12): NaN, Infinity, 1e999, 400 digits, 10**400,
-5%, 20000%: never a status, never in the store or a JSON file as non-standard JSON;
each is a row warning naming the row and the column, the item stays with ratio unknown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_cli, sample_rows, write_csv

from dashboard.core.parse import compute_ratio, parse_int, parse_number, parse_percent, parse_target

BAD = [
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("1e999", "1e999"),
    ("digits", "9" * 400),
    ("negative", "-5%"),
    ("huge", "20000%"),
]


def strict_json(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def bad_numbers_csv(path: Path) -> Path:
    """The sample with six more items whose 完成比例 is unusable."""
    rows = sample_rows()
    for i, (label, value) in enumerate(BAD, start=46):
        rows.append([str(i), "县实事", f"坏数字{label}", "测试局", "100", "", value])
    return write_csv(path, rows)


def test_unusable_ratios_are_unknown_with_row_warnings(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    bad_numbers_csv(tmp_path / "bad.csv")
    cfg = config_writer([{"name": "bad", "type": "csv", "path": "bad.csv"}])
    proc = run_cli("check", "--json", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    report = strict_json(proc.stdout)
    assert isinstance(report, dict)
    assert report["items"] == 51
    # NaN no longer counts as on track, nor inf as done: the six are unknown.
    assert report["by_status"] == {"done": 25, "on_track": 19, "lagging": 0, "severe": 1, "unknown": 6}
    warnings = report["sources"][0]["warnings"]
    for row in range(47, 53):  # the header is line 1: items 46..51 are on lines 47..52
        assert any(f"第{row}行 列「完成比例」" in w for w in warnings), (row, warnings)
    assert any("-5%" in w and "0%–10000%" in w for w in warnings)


def test_json_export_is_strict_with_bad_numbers(tmp_path: Path, config_writer: Callable[..., Path]) -> None:
    bad_numbers_csv(tmp_path / "bad.csv")
    cfg = config_writer([{"name": "bad", "type": "csv", "path": "bad.csv"}])
    out = tmp_path / "items.json"
    proc = run_cli("export", "--format", "json", "-o", str(out), "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    data = strict_json(out.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    rows = {r["name"]: r for r in data["rows"]}
    assert len(rows) == 51
    assert all(r["_status"] == "unknown" for name, r in rows.items() if name.startswith("坏数字"))


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "Infinity", "-inf", "1e999", "9" * 400, 10**400, float("nan"), float("inf")]
)
def test_parsers_refuse_non_finite_and_overflowing_numbers(value: object) -> None:
    assert parse_number(value) is None
    assert parse_percent(value) is None
    assert parse_int(value) is None
    assert parse_target(value).value is None


def test_a_ratio_that_overflows_is_unknown() -> None:
    assert compute_ratio(parse_target(1e-300), 1e300) is None
    assert compute_ratio(parse_target("22"), 7.0) == pytest.approx(7 / 22)


def test_huge_figures_in_target_and_progress_are_row_warnings(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    rows = [
        ["序号", "项目名称", "牵头单位", "任务数", "进度情况"],
        ["1", "目标太大", "某局", "1e20", "5"],
        ["2", "完成值NaN", "某局", "10", "NaN"],
        ["3", "严重滞后", "某局", "10", "3"],
    ]
    write_csv(tmp_path / "t.csv", rows)
    cfg = config_writer([{"name": "t", "type": "csv", "path": "t.csv"}])
    report = strict_json(run_cli("check", "--json", "--config", str(cfg)).stdout)
    assert isinstance(report, dict)
    assert report["items"] == 3 and report["by_status"]["unknown"] == 2 and report["by_status"]["severe"] == 1
    warnings = report["sources"][0]["warnings"]
    assert any("第2行 列「任务数」" in w for w in warnings)
    assert any("第3行 列「进度情况」" in w for w in warnings)

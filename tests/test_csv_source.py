"""The CSV source copes with the quirks of real exports (design §1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SAMPLE_COUNTS, run_cli, sample_rows, write_csv


def check_json(config: Path, *extra: str) -> tuple[int, dict]:
    proc = run_cli("check", "--config", str(config), "--json", *extra)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def messy_copy(rows: list[list[str]]) -> list[list[str]]:
    """The sample as an office would re-export it: a title row, other header
    names, and merged cells (category, lead unit) exported as blanks."""
    header = ["序号", "实事类别", "项目名称", "责任单位", "任务数", "进度情况", "完成率"]
    out = [["湘乡市重点民生实事进展情况表", "", "", "", "", "", ""], ["", "", "", "", "", "", ""], header]
    previous: list[str] | None = None
    for row in rows[1:]:
        row = list(row)
        if previous is not None:
            for col in (1, 3):  # same as the row above → blank, like a merged cell
                if row[col] == previous[col]:
                    previous_value, row[col] = row[col], ""
                    assert previous_value
        out.append(row)
        previous = [r if r else p for r, p in zip(row, previous or row, strict=True)]
    return out


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_messy_sample_gives_the_bulletin_figures(
    tmp_path: Path, config_writer: Callable[..., Path], encoding: str
) -> None:
    rows = messy_copy(sample_rows())
    blanks = sum(1 for r in rows[3:] if r[3] == "")
    assert blanks > 10  # the test really exercises fill-down
    write_csv(tmp_path / "messy.csv", rows, encoding)
    code, report = check_json(config_writer([{"name": "messy", "type": "csv", "path": "messy.csv"}]))
    assert code == 0
    assert report["items"] == 45
    assert report["by_status"] == SAMPLE_COUNTS
    assert [(b["id"], b["unit"], b["ratio"]) for b in report["behind"]] == [("45", "公安局交警大队", 0.32)]


def test_gb18030_file_is_not_valid_utf8(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "g.csv", messy_copy(sample_rows()), "gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")


def test_bad_rows_are_warnings_naming_file_row_and_column(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    rows = sample_rows()
    rows[5][6] = "百分之八十"  # row 6 of the file: an unreadable ratio
    rows[7][2] = ""  # row 8: no name at all
    rows.append(["", "合计", "", "", "", "", "95%"])
    write_csv(tmp_path / "bad.csv", rows)
    code, report = check_json(config_writer([{"name": "bad", "type": "csv", "path": "bad.csv"}]))
    assert code == 0
    assert report["items"] == 44  # the row without a name is skipped, the others load
    warnings = report["sources"][0]["warnings"]
    assert any("bad.csv" in w and "第6行" in w and "完成比例" in w for w in warnings), warnings
    assert any("第8行" in w and "项目名称" in w for w in warnings), warnings
    assert any("合计" in w for w in warnings), warnings
    # row 6 (item 5, target 2, progress 已完成) has no readable ratio and none computable
    assert report["by_status"]["unknown"] == 1


def test_missing_ratio_is_computed(tmp_path: Path, config_writer: Callable[..., Path]) -> None:
    import asyncio

    from dashboard.config import load_config
    from dashboard.runtime import Runtime

    runtime = Runtime(
        load_config(
            config_writer(
                [
                    {
                        "name": "s",
                        "type": "csv",
                        "path": str(Path(__file__).parents[1] / "dashboard/data/xiangxiang-2024-09.csv"),
                    }
                ]
            )
        )
    )
    asyncio.run(runtime.refresh_all())
    item23 = next(i for i in runtime.items() if i.id == "23")
    assert item23.ratio_computed and item23.ratio == pytest.approx(535 / 455)


def test_explicit_encoding_and_extra_aliases(tmp_path: Path, config_writer: Callable[..., Path]) -> None:
    rows = sample_rows()
    rows[0][3] = "承办单位"  # not a built-in alias
    write_csv(tmp_path / "a.csv", rows, "gb18030")
    cfg = config_writer(
        [
            {
                "name": "a",
                "type": "csv",
                "path": "a.csv",
                "encoding": "gb18030",
                "aliases": {"unit": ["承办单位"]},
            }
        ]
    )
    code, report = check_json(cfg)
    assert code == 0 and report["behind"][0]["unit"] == "公安局交警大队"


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    write_csv(tmp_path / "conf" / "s.csv", sample_rows())
    from conftest import write_config

    cfg = write_config(tmp_path / "conf", [{"name": "s", "type": "csv", "path": "s.csv"}])
    proc = run_cli("check", "--config", str(cfg), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["items"] == 45

"""Data quality (数据质量, issue 15): `dashboard quality [--json]`, `dashboard export
--view quality` and the 数据质量 screen, on the sample and on files made to show each
finding."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from conftest import DEFAULT_CONFIG, SAMPLE_CSV, run_cli, sample_rows, write_config, write_csv

RENSHE_FULL = "人力资源和社会保障局"
RENSHE_COUNTY = "湘乡市人力资源和社会保障局"


def quality_json(config: Path) -> dict[str, Any]:
    done = run_cli("quality", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def ids(report: dict[str, Any], kind: str) -> list[str]:
    return [f["item_id"] for f in report["findings"] if f["kind"] == kind]


def test_sample_findings_exit_zero_and_name_items_23_and_8() -> None:
    report = quality_json(DEFAULT_CONFIG)
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    text_only = [r["序号"] for r in rows if re.search(r"[\u4e00-\u9fff]", r["进度情况"])]
    assert len(text_only) == 30
    assert report["as_of"] == "2024-09-30" and report["stale_days"] == 35
    assert report["counts"] == {
        "no_ratio": 0,
        "computed": 1,
        "text_progress": 30,
        "out_of_range": 1,
        "stale_update": 0,
        "one_source": 0,  # the 码上通 export lists only 省实事: its 11 missing 市实事 are no finding
        "unit_variant": 0,
    }
    assert ids(report, "computed") == ["23"]  # 535 / 455, no 完成比例 in the bulletin
    assert ids(report, "out_of_range") == ["8"]  # 259.5%
    assert sorted(ids(report, "text_progress"), key=int) == sorted(text_only, key=int)
    assert report["unit_variants"] == [] and report["alias_table"] == ""


def _bad_rows() -> list[list[str]]:
    """Five items, each with one problem, and a 更新时间 column."""
    return [
        ["序号", "实事类别", "项目名称", "牵头单位", "任务数", "进度情况", "完成比例", "更新时间"],
        ["1", "省实事", "甲项目", "民政局", "100", "50", "50%", "2024-09-20"],
        ["2", "省实事", "乙项目", "民政局", "", "正在推进", "不详", "2024-09-20"],
        ["3", "省实事", "丙项目", "水利局", "10", "30", "300%", "2024-09-20"],
        ["4", "省实事", "丁项目", "水利局", "100", "80", "80%", "2024-08-01"],
        ["5", "省实事", "戊项目", "司法局", "100", "90", "", "2024-09-25"],
    ]


def test_each_finding_on_a_file_made_to_show_it(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "bad.csv", _bad_rows())
    config = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}])
    report = quality_json(config)
    assert ids(report, "no_ratio") == ["2"]
    no_ratio = next(f for f in report["findings"] if f["kind"] == "no_ratio")
    # The row's own warning: which column and what it said.
    assert (
        no_ratio["warnings"] and "完成比例" in no_ratio["warnings"][0] and "不详" in no_ratio["warnings"][0]
    )
    assert ids(report, "out_of_range") == ["3"]
    assert ids(report, "computed") == ["5"]  # 90 / 100
    assert ids(report, "stale_update") == ["4"]  # 2024-08-01 is 60 days before 2024-09-30
    stale = next(f for f in report["findings"] if f["kind"] == "stale_update")
    assert "60 天" in stale["detail"]
    assert ids(report, "text_progress") == ["2"]


def test_stale_days_from_the_config(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "bad.csv", _bad_rows())
    config = write_config(
        tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], "[quality]\nstale_days = 90\n"
    )
    assert ids(quality_json(config), "stale_update") == []


def test_an_item_missing_from_the_second_source_is_named(tmp_path: Path) -> None:
    rows = sample_rows()
    first = write_csv(tmp_path / "a.csv", rows)
    # The second bulletin lacks items 44 and 45, and writes 人社局 in full.
    second_rows = [r for r in rows if r[0] not in ("44", "45")]
    for r in second_rows[1:]:
        if r[3] == "人社局":
            r[3] = RENSHE_FULL
    second = write_csv(tmp_path / "b.csv", second_rows)
    sources = [
        {"name": "通报", "type": "csv", "path": str(first)},
        {"name": "复核", "type": "csv", "path": str(second)},
    ]
    plain = quality_json(write_config(tmp_path, sources))
    # Without aliases the seven 人社局 items do not match either: 2 + 7 one way, 7 the other.
    assert plain["counts"]["one_source"] == 16
    aliased = quality_json(write_config(tmp_path, sources, f'[units.aliases]\n"{RENSHE_FULL}" = "人社局"\n'))
    assert sorted(ids(aliased, "one_source")) == ["44", "45"]
    finding = next(f for f in aliased["findings"] if f["kind"] == "one_source")
    assert "见于「通报」" in finding["detail"] and "不见于「复核」" in finding["detail"]


def renshe_config(tmp_path: Path, extra: str = "") -> Path:
    rows = sample_rows()
    for row in rows[1:]:
        if row[0] == "8":
            row[3] = RENSHE_FULL
        if row[0] == "26":
            row[3] = RENSHE_COUNTY
    data = write_csv(tmp_path / "renshe.csv", rows)
    return write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], extra)


def test_three_spellings_of_renshe_are_proposed_as_one_unit_with_alias_lines(tmp_path: Path) -> None:
    report = quality_json(renshe_config(tmp_path))
    assert report["counts"]["unit_variant"] == 1
    (group,) = report["unit_variants"]
    assert group["canonical"] == "人社局"
    assert group["names"] == {"人社局": 5, RENSHE_FULL: 1, RENSHE_COUNTY: 1}
    assert group["items"] == 7
    assert report["alias_table"] == (
        f'[units.aliases]\n"{RENSHE_FULL}" = "人社局"\n"{RENSHE_COUNTY}" = "人社局"\n'
    )
    text = run_cli("quality", "--config", str(renshe_config(tmp_path)))
    assert text.returncode == 0
    assert "单位名称疑似同一单位 (1)" in text.stdout
    assert f'"{RENSHE_FULL}" = "人社局"' in text.stdout


def test_the_suggested_table_pasted_into_the_config_leaves_no_proposal(tmp_path: Path) -> None:
    suggested = quality_json(renshe_config(tmp_path))["alias_table"]
    report = quality_json(renshe_config(tmp_path, suggested))
    assert report["counts"]["unit_variant"] == 0


def test_export_view_quality_writes_one_row_per_finding(tmp_path: Path) -> None:
    done = run_cli(
        "export", "--view", "quality", "--format", "json", "-o", "-", "--config", str(DEFAULT_CONFIG)
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    rows = body["rows"] if isinstance(body, dict) else body
    kinds = [r["kind"] for r in rows]
    assert len(rows) == 32 and kinds.count("text_progress") == 30
    assert {r["item_id"] for r in rows if r["kind"] == "out_of_range"} == {"8"}


def test_bad_alias_table_is_exit_2_naming_the_key(tmp_path: Path) -> None:
    config = renshe_config(tmp_path, '[units]\ngroups = [["人社局", "人社"], ["民政局", "人社"]]\n')
    done = run_cli("quality", "--config", str(config))
    assert done.returncode == 2
    assert "units.groups[1]" in done.stderr


async def _loaded_app(config: Path) -> Any:
    from dashboard.config import load_config
    from dashboard.ui.app import make_app

    return make_app(load_config(config))


def _cells(table: Any, i: int) -> list[str]:
    return [str(c) for c in table.get_row_at(i)]


async def test_units_screen_shows_one_renshe_row_of_seven_items_with_the_alias_table(tmp_path: Path) -> None:
    from dashboard.ui.widgets.table import VirtualTable

    suggested = f'[units.aliases]\n"{RENSHE_FULL}" = "人社局"\n"{RENSHE_COUNTY}" = "人社局"\n'
    for extra, units in (("", 17), (suggested, 15)):
        app = await _loaded_app(renshe_config(tmp_path, extra))
        async with app.run_test(size=(160, 45)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("u")
            await pilot.pause()
            table = app.screen.query_one("#units", VirtualTable)
            assert table.row_count == units
            rows = {cells[0]: cells for cells in (_cells(table, i) for i in range(table.row_count))}
            if extra:
                assert RENSHE_FULL not in rows and RENSHE_COUNTY not in rows
                assert rows["人社局"][1] == "7"  # 项目数
            else:
                assert rows["人社局"][1] == "5" and rows[RENSHE_FULL][1] == "1"


async def test_quality_screen_z_lists_findings_and_the_alias_lines(tmp_path: Path) -> None:
    from textual.widgets import Static

    from dashboard.ui.screens.detail import ItemDetailScreen
    from dashboard.ui.screens.quality import QualityScreen
    from dashboard.ui.widgets.table import VirtualTable

    app = await _loaded_app(renshe_config(tmp_path))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("z")
        await app.workers.wait_for_complete()  # the findings are made in a worker thread
        await pilot.pause()
        assert isinstance(app.screen, QualityScreen)
        table = app.screen.query_one("#quality", VirtualTable)
        assert table.row_count == 33  # the sample's 32 and one unit-name group
        labels = [_cells(table, i)[0] for i in range(table.row_count)]
        assert labels.count("单位名称疑似同一单位") == 1 and labels.count("进度只有文字") == 30
        variant = _cells(table, labels.index("单位名称疑似同一单位"))
        assert variant[3] == f"人社局 / {RENSHE_FULL} / {RENSHE_COUNTY}"
        aliases = str(app.screen.query_one("#quality-aliases", Static).render())
        assert f'"{RENSHE_COUNTY}" = "人社局"' in aliases
        note = str(app.screen.query_one("#view-note", Static).render())
        assert "共 33 条" in note
        await pilot.press("home", "enter")  # the first finding: item 23's computed ratio
        await pilot.pause()
        assert isinstance(app.screen, ItemDetailScreen) and app.screen.item_id == "23"

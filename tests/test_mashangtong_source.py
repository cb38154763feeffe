"""The 码上通 export source: the bundled sample loads as 34 indicators in 23 projects with
annex 4's monthly updates, and merges with the bulletin into one list of 45 items."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from conftest import (
    DEFAULT_CONFIG,
    SAMPLE_COUNTS,
    SAMPLE_CSV,
    SAMPLE_MST_CSV,
    SAMPLE_MST_XLSX,
    SAMPLE_UPDATES,
    run_cli,
)

from dashboard.config import load_config
from dashboard.contracts import ConfigError
from dashboard.core.items import Item
from dashboard.runtime import Runtime

MONTHS = range(3, 10)  # March .. September, annex 4's columns


def annex4() -> dict[str, list[int]]:
    """考核项目 → 1/0 per month, March to September."""
    with SAMPLE_UPDATES.open(encoding="utf-8-sig", newline="") as f:
        return {r["考核项目"]: [1 if r[f"{m}月份"].strip() else 0 for m in MONTHS] for r in csv.DictReader(f)}


async def load(config_writer: Callable[..., Path], path: Path, **options: object) -> list[Item]:
    runtime = Runtime(
        load_config(config_writer([{"name": "码上通", "type": "mashangtong", "path": str(path), **options}]))
    )
    await runtime.cycle()
    state = runtime.states["码上通"]
    assert state.ok, state.error
    return state.items


@pytest.mark.parametrize("path", [SAMPLE_MST_XLSX, SAMPLE_MST_CSV], ids=["xlsx", "csv"])
async def test_sample_has_34_indicators_in_23_projects_with_annex4_updates(
    config_writer: Callable[..., Path], path: Path
) -> None:
    items = await load(config_writer, path)
    assert len(items) == 34
    assert len({i.project_code for i in items}) == 23
    assert all(i.is_provincial for i in items)
    months = annex4()
    assert {i.project_name for i in items} == set(months)
    for i in items:
        assert [i.monthly_updates[m] for m in MONTHS] == months[i.project_name], i.name


async def test_xlsx_and_csv_give_the_same_items(config_writer: Callable[..., Path]) -> None:
    xlsx = await load(config_writer, SAMPLE_MST_XLSX)
    text = await load(config_writer, SAMPLE_MST_CSV)

    def figures(items: list[Item]) -> list[tuple[object, ...]]:
        return [
            (
                i.project_code,
                i.name,
                i.unit,
                i.ratio,
                i.acceptance_status,
                i.acceptance_ratio,
                i.satisfaction,
                i.comments_received,
                i.comments_answered,
                i.updated_at,
                i.disclosures,
            )
            for i in items
        ]

    assert figures(xlsx) == figures(text)


async def test_percent_cells_become_fractions_and_a_missing_ratio_is_computed(
    config_writer: Callable[..., Path],
) -> None:
    items = {i.name: i for i in await load(config_writer, SAMPLE_MST_XLSX)}
    jobs = items["城镇新增就业(人)"]
    assert jobs.ratio == pytest.approx(0.874) and jobs.acceptance_ratio == pytest.approx(0.7)
    assert jobs.satisfaction == pytest.approx(0.972)
    assert (jobs.comments_received, jobs.comments_answered) == (3, 3)
    nursery = items['普惠托育服务"护蕾"行动(个)']
    assert nursery.ratio_computed and nursery.ratio == pytest.approx(535 / 455)


async def test_renamed_headers_and_unknown_columns(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    """Headers are aliasable; a column nobody knows is kept in `extra`, not dropped."""
    wb = openpyxl.load_workbook(SAMPLE_MST_XLSX)
    ws = wb.active
    ws.delete_rows(1)  # no title row this time
    for cell in ws[1]:
        if cell.value == "完成率":
            cell.value = "完成进度比"
    extra_col = ws.max_column + 1
    ws.cell(row=1, column=extra_col, value="督办备注")
    ws.cell(row=2, column=extra_col, value="已督办")
    path = tmp_path / "export.xlsx"
    wb.save(path)
    items = await load(config_writer, path, aliases={"ratio": ["完成进度比"]})
    assert len(items) == 34
    assert items[0].extra == {"督办备注": "已督办"}
    assert items[2].ratio == pytest.approx(0.874)


def test_default_config_merges_the_export_into_the_bulletin() -> None:
    proc = run_cli("check", "--json", "--config", str(DEFAULT_CONFIG))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS
    assert [s["items"] for s in report["sources"]] == [45, 34]
    assert [b["id"] for b in report["behind"]] == ["45"]


async def test_an_item_in_both_sources_is_one_item(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer(
        [
            {"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)},
            {"name": "码上通", "type": "mashangtong", "path": str(SAMPLE_MST_XLSX)},
        ]
    )
    snap = await Runtime(load_config(cfg)).cycle()
    assert len(snap.evaluated) == 45 and snap.by_status == SAMPLE_COUNTS
    jobs = next(e.item for e in snap.evaluated if e.item.name == "城镇新增就业(人)")
    # The bulletin (first) gives name, unit and ratio; the export fills what the bulletin lacks.
    assert jobs.id == "26" and jobs.field_sources["ratio"] == "通报"
    assert jobs.project_code == "HN2024-01" and jobs.field_sources["project_code"] == "码上通"
    assert jobs.monthly_updates[9] == 1 and jobs.acceptance_status == "验收中"
    city = [e.item for e in snap.evaluated if not e.item.is_provincial]
    assert len(city) == 11 and not any(i.project_code for i in city)


def test_unreadable_export_names_the_file(tmp_path: Path, config_writer: Callable[..., Path]) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    cfg = config_writer([{"name": "码上通", "type": "mashangtong", "path": str(broken)}])
    proc = run_cli("check", "--json", "--config", str(cfg))
    assert proc.returncode == 3
    error = json.loads(proc.stdout)["sources"][0]["error"]
    assert str(broken) in error and "xlsx" in error


def test_wrong_file_type_is_a_config_error(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer([{"name": "码上通", "type": "mashangtong", "path": "export.pdf"}])
    with pytest.raises(ConfigError) as error:
        Runtime(load_config(cfg))
    assert error.value.key == "sources[0].path" and ".xlsx" in str(error.value)

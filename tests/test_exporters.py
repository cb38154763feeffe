"""Exporters: every view to CSV, XLSX, Markdown, HTML and JSON, on the real sample;
formula injection neutralised; export paths from the TUI never leave the folder."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from conftest import SAMPLE_CSV, sample_rows, write_csv

from dashboard.config import load_config
from dashboard.core.units import summarise_units
from dashboard.exporting import (
    Exporter,
    ExportError,
    export_to_folder,
    export_view,
    exporters,
    safe_export_path,
)
from dashboard.plugins import PluginManager
from dashboard.runtime import Runtime, Snapshot
from dashboard.views import alerts_view, build_view, filter_evaluated, items_view, units_view

FORMATS = ("csv", "xlsx", "md", "html", "json")
HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def plugins() -> PluginManager:
    return PluginManager()


@pytest.fixture(scope="module")
def table(plugins: PluginManager) -> dict[str, Exporter]:
    return exporters(plugins)


def snapshot_of(config_path: Path) -> Snapshot:
    runtime = Runtime(load_config(config_path))
    return asyncio.run(runtime.cycle())


@pytest.fixture
def snap(config_writer: Callable[..., Path]) -> Snapshot:
    return snapshot_of(config_writer([{"name": "sample", "type": "csv", "path": str(SAMPLE_CSV)}]))


def read_xlsx(path: Path) -> tuple[list[str], list[list[object]], openpyxl.worksheet.worksheet.Worksheet]:
    """Header and data rows of an exported sheet (the header is the row after title and notes)."""
    ws = openpyxl.load_workbook(path).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header_index = next(
        i for i, r in enumerate(rows) if r[0] == "序号" or r[0] == "牵头单位" or r[0] == "规则"
    )
    return [str(c) for c in rows[header_index]], rows[header_index + 1 :], ws


def test_the_five_formats_are_builtin_plugins(table: dict[str, Exporter], plugins: PluginManager) -> None:
    assert set(FORMATS) <= set(table)
    names = {r.name for r in plugins.describe() if "exporter" in r.kinds and r.origin == "内置 builtin"}
    assert {"export_csv", "export_xlsx", "export_md", "export_html", "export_json"} <= names


def test_csv_has_bom_and_the_45_items_worst_first(
    snap: Snapshot, table: dict[str, Exporter], tmp_path: Path
) -> None:
    path = export_view(items_view(snap.evaluated, "项目清单"), "csv", tmp_path / "items.csv", table)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "序号",
        "实事类别",
        "项目名称",
        "牵头单位",
        "任务数",
        "进度情况",
        "完成比例",
        "序时进度",
        "状态",
    ]
    assert len(rows) == 46
    assert rows[1][0] == "45" and rows[1][3] == "公安局交警大队"
    assert rows[1][6:] == ["32.0%", "75.0%", "严重滞后"]
    statuses = [r[8] for r in rows[1:]]
    assert statuses.count("已完成") == 25 and statuses.count("正常") == 19


def test_xlsx_is_typed_styled_frozen_and_coloured(
    snap: Snapshot, table: dict[str, Exporter], tmp_path: Path
) -> None:
    path = export_view(
        items_view(snap.evaluated, "项目清单", ["截止 2024-09-30"]), "xlsx", tmp_path / "i.xlsx", table
    )
    header, rows, ws = read_xlsx(path)
    assert ws["A1"].value == "项目清单"
    assert len(rows) == 45
    first = dict(zip(header, rows[0], strict=True))
    assert first["牵头单位"] == "公安局交警大队"
    assert first["任务数"] == 22  # a number, not the text "22"
    assert first["完成比例"] == pytest.approx(0.32)
    header_row = next(r for r in range(1, 5) if ws.cell(r, 1).value == "序号")
    ratio_cell = ws.cell(header_row + 1, header.index("完成比例") + 1)
    assert ratio_cell.data_type == "n" and "%" in ratio_cell.number_format
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.cell(header_row, 1).font.b
    # Chinese names are wide: the name column is much wider than the 序号 column.
    widths = {c: ws.column_dimensions[c].width for c in "ABC"}
    assert widths["C"] > 40 > widths["A"]
    # The severe row is red, a done row green.
    assert ws.cell(header_row + 1, 1).fill.fgColor.rgb.endswith("FFC7CE")
    done_row = next(i for i, r in enumerate(rows) if r[-1] == "已完成")
    assert ws.cell(header_row + 1 + done_row, 1).fill.fgColor.rgb.endswith("C6EFCE")


def test_markdown_html_and_json(snap: Snapshot, table: dict[str, Exporter], tmp_path: Path) -> None:
    view = items_view(snap.evaluated, "项目清单")
    md = export_view(view, "md", tmp_path / "v.md", table).read_text(encoding="utf-8")
    assert md.startswith("# 项目清单")
    table_lines = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table_lines) == 47  # header, rule, 45 items
    assert (
        "| 45 | 湘潭市实事 | 重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处) | 公安局交警大队 |"
        in md
    )

    page = export_view(view, "html", tmp_path / "v.html", table).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "<script" not in page and "http" not in page  # standalone: nothing fetched
    assert "tr.status-severe td { background: #FFC7CE" in page
    assert page.count('<tr class="status-severe">') == 1
    assert page.count('<tr class="status-done">') == 25

    data = json.loads(export_view(view, "json", tmp_path / "v.json", table).read_text(encoding="utf-8"))
    assert data["view"] == "items" and len(data["rows"]) == 45
    first = data["rows"][0]
    assert (first["id"], first["unit"], first["ratio"], first["_status"]) == (
        "45",
        "公安局交警大队",
        0.32,
        "severe",
    )


def test_units_and_alerts_views_export(snap: Snapshot, table: dict[str, Exporter], tmp_path: Path) -> None:
    units = units_view(summarise_units(snap.evaluated), "各单位进度")
    header, rows, _ws = read_xlsx(export_view(units, "xlsx", tmp_path / "u.xlsx", table))
    assert len(rows) == 15  # lead units in the September bulletin
    worst = dict(zip(header, rows[0], strict=True))
    assert (
        worst["牵头单位"] == "公安局交警大队"
        and worst["严重滞后"] == 1
        and worst["其完成比例"] == pytest.approx(0.32)
    )
    assert sum(r[header.index("项目数")] for r in rows) == 45

    # Alert records are read by attribute, so any object with those fields exports.
    record = SimpleNamespace(
        key="severe:45",
        rule="severe",
        item_id="45",
        item_name="重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)",
        unit="公安局交警大队",
        severity="critical",
        state="open",
        message="严重滞后：32.0%，序时进度75%",
        first_fired=datetime(2024, 9, 30, 9, 0),
        last_sent=None,
        resolved_at=None,
        silenced_until=None,
    )
    data = json.loads(
        export_view(alerts_view([record], "预警"), "json", tmp_path / "a.json", table).read_text("utf-8")
    )
    assert data["rows"] == [
        {
            "rule": "severe",
            "item_id": "45",
            "item_name": record.item_name,
            "unit": "公安局交警大队",
            "severity": "严重",
            "state": "未处理",
            "message": record.message,
            "first_fired": "2024-09-30T09:00:00",
            "last_sent": None,
            "resolved_at": None,
            "silenced_until": None,
            "key": "severe:45",
            "_status": "severe",
        }
    ]


def test_filter_matches_name_unit_category_and_project(snap: Snapshot) -> None:
    assert len(filter_evaluated(snap.evaluated, "民政局")) == 7
    assert [e.item.id for e in filter_evaluated(snap.evaluated, "交警")] == ["45"]
    assert len(filter_evaluated(snap.evaluated, "湘潭市实事 应急管理局")) == 2  # every term must match
    assert len(filter_evaluated(snap.evaluated, "")) == 45
    view = build_view("units", snap, title="看板", filter_text="交警")
    assert [r[0] for r in view.rows] == ["公安局交警大队"] and "筛选：交警" in view.notes


def test_formula_in_a_name_is_exported_as_text(
    config_writer: Callable[..., Path], table: dict[str, Exporter], tmp_path: Path
) -> None:
    rows = sample_rows()
    rows[45][2] = HYPERLINK  # item 45, the severe one: first in the view
    rows[1][2] = "+1+2"
    rows[2][2] = "@SUM(A1)"
    data = write_csv(tmp_path / "injected.csv", rows)
    snap = snapshot_of(config_writer([{"name": "injected", "type": "csv", "path": str(data)}]))
    view = items_view(snap.evaluated, "项目清单")

    text = export_view(view, "csv", tmp_path / "out.csv", table).read_text(encoding="utf-8-sig")
    names = [r[2] for r in csv.reader(io.StringIO(text))]
    assert names[1] == "'" + HYPERLINK
    assert "'+1+2" in names and "'@SUM(A1)" in names
    assert not any(n.startswith(("=", "+", "@")) for n in names)

    path = export_view(view, "xlsx", tmp_path / "out.xlsx", table)
    header, _rows, ws = read_xlsx(path)
    cell = ws.cell(
        next(r for r in range(1, 6) if ws.cell(r, 1).value == "序号") + 1, header.index("项目名称") + 1
    )
    assert cell.value == HYPERLINK and cell.data_type == "s"
    with zipfile.ZipFile(path) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet_xml and "HYPERLINK" in sheet_xml  # stored as a string, not a formula


# -- export paths from the TUI ------------------------------------------------------------

NOW = datetime(2024, 9, 30, 10, 15, 0)


def test_default_file_name_carries_view_and_time(tmp_path: Path) -> None:
    assert (
        safe_export_path(tmp_path, None, "items", "xlsx", NOW)
        == tmp_path.resolve() / "items-20240930-101500.xlsx"
    )
    assert (
        safe_export_path(tmp_path, "九月/清单", "items", "csv", NOW)
        == tmp_path.resolve() / "九月" / "清单.csv"
    )
    inside = tmp_path.resolve() / "a.md"
    assert safe_export_path(tmp_path, str(inside), "items", "md", NOW) == inside


@pytest.mark.parametrize("requested", ["../../x", "../x.csv", "sub/../../x", "/tmp/x.csv", "/etc/passwd"])
def test_paths_leaving_the_folder_are_refused(tmp_path: Path, requested: str) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(ExportError) as err:
        safe_export_path(folder, requested, "items", "csv", NOW)
    message = str(err.value)
    assert "不在导出文件夹" in message and "已拒绝" in message and requested in message


def test_a_name_the_file_system_cannot_hold_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="无效的导出文件名"):
        safe_export_path(tmp_path, "a\x00b", "items", "csv", NOW)


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    outside = tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    (folder / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ExportError, match="已拒绝"):
        safe_export_path(folder, "link/x.csv", "items", "csv", NOW)


def test_export_to_folder_as_the_tui_calls_it(snap: Snapshot, plugins: PluginManager, tmp_path: Path) -> None:
    folder = tmp_path / "exports"  # created on first export
    view = items_view(filter_evaluated(snap.evaluated, "民政局"), "项目清单")
    first = export_to_folder(view, "xlsx", folder, plugins)
    second = export_to_folder(view, "xlsx", folder, plugins)
    assert first.parent == second.parent == folder.resolve()
    assert (
        first.name.startswith("items-") and first.suffix == ".xlsx" and first != second
    )  # never overwritten
    assert len(read_xlsx(first)[1]) == 7
    with pytest.raises(ExportError, match=r"不在导出文件夹.*已拒绝"):
        export_to_folder(view, "csv", folder, plugins, name="../../x")
    assert not (tmp_path.parent / "x.csv").exists() and not (tmp_path / "x.csv").exists()
    with pytest.raises(ExportError, match="不支持的导出格式"):
        export_to_folder(view, "docx", folder, plugins)
    assert sorted(p.suffix for p in folder.iterdir()) == [".xlsx", ".xlsx"]  # no temp files left


async def test_pressing_e_exports_the_screen_into_the_export_folder(
    config_writer: Callable[..., Path], tmp_path: Path
) -> None:
    from dashboard.ui.app import make_app

    cfg = config_writer(
        [{"name": "sample", "type": "csv", "path": str(SAMPLE_CSV)}], extra='[export]\ndir = "exports"'
    )
    app = make_app(load_config(cfg))
    shown: list[str] = []
    notify = app.notify

    def spy(message: str, **kwargs: Any) -> None:  # what the user reads in the toast
        shown.append(str(message))
        notify(message, **kwargs)

    app.notify = spy  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [written] = list((tmp_path / "exports").iterdir())
        assert written.name.startswith("items-") and written.suffix == ".xlsx"
        _header, rows, _ws = read_xlsx(written)
        assert len(rows) == 45 and rows[0][3] == "公安局交警大队"
        assert any(str(written) in message for message in shown)  # says where the file went


def test_a_failing_exporter_plugin_leaves_no_file(snap: Snapshot, tmp_path: Path) -> None:
    def broken(view: object, path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise RuntimeError("plugin bug")

    folder = tmp_path / "exports"
    with pytest.raises(ExportError, match="plugin bug"):
        export_to_folder(
            items_view(snap.evaluated, "项目清单"), "bad", folder, {"bad": Exporter("bad", "bad", broken)}
        )
    assert list(folder.iterdir()) == []  # neither the file nor its temporary

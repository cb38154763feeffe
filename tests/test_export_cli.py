"""`dashboard export --view items|units|alerts --format ... [--filter TEXT] [-o PATH]`, as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from conftest import SAMPLE_CSV, run_cli

SAMPLE = [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}]


@pytest.fixture
def cfg(config_writer: Callable[..., Path]) -> Path:
    return config_writer(SAMPLE, extra='[export]\ndir = "exports"')


def test_every_format_from_the_command_line(cfg: Path, tmp_path: Path) -> None:
    for fmt in ("csv", "xlsx", "md", "html", "json"):
        out = tmp_path / f"items.{fmt}"
        proc = run_cli("export", "--config", str(cfg), "--view", "items", "--format", fmt, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert f"已导出 45 行到 {out}" in proc.stdout
    rows = list(csv.reader(io.StringIO((tmp_path / "items.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == 46 and rows[1][3] == "公安局交警大队"
    assert len(json.loads((tmp_path / "items.json").read_text(encoding="utf-8"))["rows"]) == 45
    assert "<table>" in (tmp_path / "items.html").read_text(encoding="utf-8")


def test_filter_and_format_from_the_file_name(cfg: Path, tmp_path: Path) -> None:
    out = tmp_path / "民政局.xlsx"
    proc = run_cli("export", "--config", str(cfg), "--filter", "民政局", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    ws = openpyxl.load_workbook(out).active
    units = [r[3] for r in ws.iter_rows(values_only=True) if r[0] and str(r[0]).isdigit()]
    assert units == ["民政局"] * 7
    assert any("筛选：民政局" in str(r[0]) for r in ws.iter_rows(max_row=3, values_only=True))


def test_units_view_and_default_folder(cfg: Path) -> None:
    proc = run_cli("export", "--config", str(cfg), "--view", "units", "--format", "md")
    assert proc.returncode == 0, proc.stderr
    [written] = list((cfg.parent / "exports").iterdir())  # [export] dir, relative to the config
    assert re.fullmatch(r"units-\d{8}-\d{6}\.md", written.name)
    text = written.read_text(encoding="utf-8")
    assert "| 公安局交警大队 | 1 | 0 | 0 | 0 | 1 |" in text


def test_alerts_view_exports(cfg: Path, tmp_path: Path) -> None:
    out = tmp_path / "alerts.json"
    proc = run_cli("export", "--config", str(cfg), "--view", "alerts", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["view"] == "alerts"
    severe = next(r for r in data["rows"] if r["key"] == "severe:45")  # fired by this very run
    assert (severe["unit"], severe["severity"], severe["state"]) == ("公安局交警大队", "严重", "未处理")
    assert severe["_status"] == "severe"


def test_usage_errors_exit_2(cfg: Path, tmp_path: Path) -> None:
    proc = run_cli("export", "--config", str(cfg), "--format", "docx", "-o", str(tmp_path / "x.docx"))
    assert proc.returncode == 2
    assert "不支持的导出格式" in proc.stderr and "xlsx" in proc.stderr
    proc = run_cli("export", "--config", str(cfg), "-o", str(tmp_path / "no_extension"))
    assert proc.returncode == 2 and "--format" in proc.stderr
    proc = run_cli("export", "--config", str(cfg), "--view", "projects", "--format", "csv")
    assert proc.returncode == 2


def test_failed_source_still_exports_and_exits_3(config_writer: Callable[..., Path], tmp_path: Path) -> None:
    cfg = config_writer([*SAMPLE, {"name": "缺失", "type": "csv", "path": str(tmp_path / "missing.csv")}])
    out = tmp_path / "partial.csv"
    proc = run_cli("export", "--config", str(cfg), "-o", str(out))
    assert proc.returncode == 3
    assert "缺失" in proc.stderr and out.is_file()

"""`dashboard check`: the public contract read by cron jobs and scripts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import DEFAULT_CONFIG, ROOT, SAMPLE_COUNTS, run_cli


def test_default_config_matches_the_september_bulletin() -> None:
    proc = run_cli("check", "--as-of", "2024-09-30", "--json", "--config", str(DEFAULT_CONFIG))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["as_of"] == "2024-09-30"
    assert report["expected"] == 0.75
    assert report["items"] == 45
    assert report["by_status"] == SAMPLE_COUNTS
    assert len(report["behind"]) == 1
    item45 = report["behind"][0]
    assert item45["id"] == "45"
    assert item45["unit"] == "公安局交警大队"
    assert item45["ratio"] == 0.32
    assert item45["expected"] == 0.75
    for source in report["sources"]:
        assert set(source) >= {"name", "ok", "items", "error"}
        assert source["ok"] is True


def test_default_config_is_found_in_the_working_directory() -> None:
    proc = run_cli("check", "--json", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["items"] == 45


def test_bundled_config_is_used_elsewhere(tmp_path: Path) -> None:
    proc = run_cli("check", "--json", cwd=tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS


def test_text_summary() -> None:
    proc = run_cli("check", "--config", str(DEFAULT_CONFIG))
    assert proc.returncode == 0
    assert "严重滞后" in proc.stdout and "公安局交警大队" in proc.stdout and "32.0%" in proc.stdout


def test_config_error_names_file_and_key_and_exits_2(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer([{"name": "s", "type": "csv", "path": "x.csv", "refesh": "30s"}])
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2
    assert str(cfg) in proc.stderr and "sources[0].refesh" in proc.stderr and "refresh" in proc.stderr


def test_unknown_source_type_is_a_config_error(config_writer: Callable[..., Path]) -> None:
    proc = run_cli("check", "--config", str(config_writer([{"name": "s", "type": "cvs", "path": "x.csv"}])))
    assert proc.returncode == 2
    assert "sources[0].type" in proc.stderr and "csv" in proc.stderr


def test_bad_top_level_values(tmp_path: Path) -> None:
    cfg = tmp_path / "dashboard.toml"
    cfg.write_text('as_of = "2024-13-45"\n', encoding="utf-8")
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2 and "as_of" in proc.stderr and "YYYY-MM-DD" in proc.stderr
    cfg.write_text("[progress]\nsevere_below = 'x'\n", encoding="utf-8")
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2 and "progress.severe_below" in proc.stderr


def test_missing_file_is_a_failed_source_exit_3(config_writer: Callable[..., Path]) -> None:
    from conftest import SAMPLE_CSV

    cfg = config_writer(
        [
            {"name": "good", "type": "csv", "path": str(SAMPLE_CSV)},
            {"name": "gone", "type": "csv", "path": "missing.csv"},
        ]
    )
    proc = run_cli("check", "--config", str(cfg), "--json")
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert report["items"] == 45
    gone = next(s for s in report["sources"] if s["name"] == "gone")
    assert gone["ok"] is False and "missing.csv" in gone["error"]


def test_python_m_dashboard_help() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0 and "check" in proc.stdout and "plugins" in proc.stdout

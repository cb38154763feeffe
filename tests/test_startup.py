"""Issue 17, the small case: what `dashboard check` and the TUI pay at start, and a
text summary that stays readable when most of 100,000 items are behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_cli, write_config, write_csv

HEADER = ["序号", "实事类别", "项目名称", "牵头单位", "任务数", "进度情况", "完成比例"]


def behind_config(folder: Path, n: int) -> Path:
    """`n` items at k% (k = 1..n) as of 2024-09-30 (序时 75%): every one behind, item 1 worst."""
    rows = [HEADER] + [[str(k), "省实事", f"项目{k}", "民政局", "10", "", f"{k}.0%"] for k in range(1, n + 1)]
    csv = write_csv(folder / "bulletin.csv", rows)
    return write_config(folder, [{"name": "通报", "type": "csv", "path": str(csv)}])


def behind_lines(stdout: str) -> list[str]:
    """The ids listed under 滞后项目, in order, and the line that says how many more."""
    lines = stdout.splitlines()
    start = lines.index("滞后项目 behind:") + 1
    listed = []
    for line in lines[start:]:
        if not line.startswith("  [") and not line.startswith("  …"):
            break
        listed.append(line.split()[0])
    return listed


def test_check_text_lists_twenty_behind_items_then_how_many_more(tmp_path: Path) -> None:
    config = behind_config(tmp_path, 30)
    proc = run_cli("check", "--config", str(config), "--no-alerts")
    assert proc.returncode == 0, proc.stderr
    listed = behind_lines(proc.stdout)
    assert listed[:-1] == [f"[{k}]" for k in range(1, 21)]  # worst first: 1% … 20%
    assert listed[-1] == "…另有"
    assert "…另有 10 项 (10 more; --all lists all)" in proc.stdout

    limited = run_cli("check", "--config", str(config), "--no-alerts", "--limit", "3")
    assert behind_lines(limited.stdout) == ["[1]", "[2]", "[3]", "…另有"]
    assert "…另有 27 项" in limited.stdout

    every = run_cli("check", "--config", str(config), "--no-alerts", "--all")
    assert behind_lines(every.stdout) == [f"[{k}]" for k in range(1, 31)]
    assert "另有" not in every.stdout

    # --json is the contract: every behind item, whatever --limit says.
    report = json.loads(run_cli("check", "--config", str(config), "--json", "--limit", "3").stdout)
    assert len(report["behind"]) == 30 and report["by_status"]["severe"] + report["by_status"]["lagging"] == 30


def test_check_text_limits_the_alert_events_too(tmp_path: Path) -> None:
    proc = run_cli("check", "--config", str(behind_config(tmp_path, 30)), "--limit", "5")
    assert proc.returncode == 0, proc.stderr
    # 30 behind: 25 severe (below 50%) and 5 lagging fire once each; 5 listed.
    assert "新触发 fired 30" in proc.stdout
    assert "…另有 25 条 (25 more; --all lists all)" in proc.stdout
    assert sum(1 for line in proc.stdout.splitlines() if line.startswith("  [critical]")) == 5


def test_check_limit_must_be_a_count(tmp_path: Path) -> None:
    config = behind_config(tmp_path, 3)
    for bad in (["--limit", "-1"], ["--limit", "x"], ["--limit", "2", "--all"]):
        proc = run_cli("check", "--config", str(config), *bad)
        assert proc.returncode == 2, bad
        assert "参数错误 usage error" in proc.stderr

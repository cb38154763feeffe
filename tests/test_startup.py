"""Issue 17, the small case: what `dashboard check` and the TUI pay at start, and a
text summary that stays readable when most of 100,000 items are behind."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_CSV, run_cli, write_config, write_csv

from dashboard import cli
from dashboard.commands import MODULES, NAMES, load

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
    assert (
        len(report["behind"]) == 30 and report["by_status"]["severe"] + report["by_status"]["lagging"] == 30
    )


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


# What a CSV source and a JSON Lines sink do not need at start (the xlsx reader, HTTP,
# templates, the TUI, the holiday calendar) and the commands that are not `check`.
NOT_FOR_CHECK = ("openpyxl", "httpx", "jinja2", "textual", "chinese_calendar", "aiohttp")


def test_check_on_a_csv_config_imports_only_what_it_uses(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[[sinks]]\ntype = "jsonl"\npath = {json.dumps(str(tmp_path / "alerts.jsonl"))}\n',
        encoding="utf-8",
    )
    script = (
        "import contextlib, io, json, sys\n"
        "from dashboard.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main(['check', '--json', '--config', {str(config)!r}])\n"
        "print(json.dumps({'code': code, 'report': json.loads(out.getvalue()), 'modules': sorted(sys.modules)}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["code"] == 0
    report = result["report"]
    assert report["items"] == 45 and report["by_status"]["severe"] == 1 and report["behind"][0]["id"] == "45"
    assert [a["key"] for a in report["alerts"]["fired"]] == ["severe:45"]  # delivered to the jsonl sink
    assert "severe:45" in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8")
    loaded = set(result["modules"])
    assert {m.split(".")[0] for m in loaded} & set(NOT_FOR_CHECK) == set()
    commands = {m for m in loaded if m.startswith("dashboard.commands.")}
    assert commands == {"dashboard.commands.check", "dashboard.commands.common"}
    assert "dashboard.ui" not in loaded
    # Built-in exporters are imported when something exports, not for a check.
    assert not {m for m in loaded if m.startswith("dashboard_plugins.export_")}
    assert "dashboard_plugins.csv_source" in loaded and "dashboard_plugins.sink_jsonl" in loaded


def test_the_deferred_builtins_table_matches_each_module() -> None:
    from importlib.metadata import entry_points

    from dashboard.plugins import BUILTIN_HOOKS, KINDS, OUR_DISTRIBUTION

    ours = [
        ep
        for ep in entry_points(group="dashboard.plugins")
        if ep.dist is not None and ep.dist.metadata["Name"] == OUR_DISTRIBUTION
    ]
    assert {ep.name for ep in ours} == set(BUILTIN_HOOKS)
    for ep in ours:
        module = ep.load()
        assert tuple(h for h in KINDS if hasattr(module, h)) == BUILTIN_HOOKS[ep.name], ep.name


def test_a_deferred_builtin_still_comes_before_a_plugin_offering_its_name(tmp_path: Path) -> None:
    # A plugins_dir plugin registers at start, the built-in csv only when source types are
    # asked for: the built-in keeps "csv" all the same, and the listing says who lost it.
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "own_csv.py").write_text(
        "from dashboard import hookimpl\n"
        "from dashboard.contracts import SourceType\n"
        "@hookimpl\n"
        "def dashboard_source_types():\n"
        "    return [SourceType(name='csv', factory=lambda spec: None)]\n",
        encoding="utf-8",
    )
    import dashboard_plugins.csv_source as builtin_csv

    from dashboard.plugins import PluginManager

    manager = PluginManager(folder, trace=None)
    assert manager.source_types()["csv"].factory is builtin_csv.dashboard_source_types()[0].factory
    records = {r.name: r for r in manager.describe()}
    assert "csv" in records["csv"].provides and "csv" not in records["local:own_csv"].provides
    assert "已由 csv" in records["local:own_csv"].error
    assert {"export_csv", "export_xlsx", "sink_wecom"} <= set(records)  # describe imports every one


def test_the_command_table_names_every_command_of_every_module() -> None:
    found: dict[str, str] = {}
    for module in MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        load(module).register(sub, argparse.ArgumentParser(add_help=False))
        found.update(dict.fromkeys(sub.choices, module))
    assert found == NAMES
    full = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(full.choices) == list(NAMES)  # `dashboard --help` lists every one, in order


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--kiosk", "--read-only"],
        ["--config", "x.toml", "--as-of", "2024-09-30", "check", "--json"],
        ["--config=x.toml", "check", "--all"],
        ["check", "--limit", "5", "--no-alerts"],
        ["ack", "severe:45", "--for", "7d", "--by", "张三"],
        ["case", "note", "1", "已督促", "--by", "李四"],
        ["export", "--view", "units", "--format", "md", "-o", "-"],
        ["--as-of", "2024-10-07", "alerts", "--json"],
    ],
)
def test_the_quick_parse_equals_the_full_command_line(argv: list[str]) -> None:
    assert vars(cli.parse_args(argv)) == vars(cli.build_parser().parse_args(argv))


def test_mistakes_and_help_come_from_the_full_command_line() -> None:
    # The partial parser never answers these: the full one does, with every command.
    assert cli._modules_needed(["--help"]) is None and cli._modules_needed(["--conf", "x", "check"]) is None
    assert cli._modules_needed(["chek"]) is None and cli._modules_needed(["--config", "x", "check"]) == [
        "check"
    ]
    help_text = run_cli("--help").stdout
    assert all(f"    {name}" in help_text for name in NAMES)
    wrong = run_cli("check", "--limit", "-1")
    assert wrong.returncode == 2 and "dashboard check: argument --limit" in wrong.stderr
    typo = run_cli("chek")
    assert typo.returncode == 2 and "invalid choice: 'chek'" in typo.stderr and "'doctor'" in typo.stderr


FIRST_FRAME_SCRIPT = """
import asyncio, json, sys
sys.path.insert(0, {tests!r})
from screen_text import screen_lines
from dashboard.config import load_config
from dashboard.ui.app import make_app

app = make_app(load_config({config!r}))


async def main():
    out = {{}}
    async with app.run_test(size=(160, 45)) as pilot:
        while not any("公安局交警大队" in line for line in screen_lines(app)):
            await pilot.pause()
        out["first"] = sorted(sys.modules)
        out["overview"] = screen_lines(app)
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key in "udwkz":
            await pilot.press(key)
            await pilot.pause()
            out[key] = type(app.screen).__name__
    return out


print(json.dumps(asyncio.run(main()), ensure_ascii=False))
"""


def test_the_first_frame_imports_only_the_overview_and_every_view_still_opens(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    script = FIRST_FRAME_SCRIPT.format(tests=str(ROOT / "tests"), config=str(config))
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=90
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    overview = "\n".join(out["overview"])
    assert "公安局交警大队" in overview and "32.0%" in overview  # item 45, worst first
    first = set(out["first"])
    screens = {m.rsplit(".", 1)[1] for m in first if m.startswith("dashboard.ui.screens.")}
    assert screens == {"base", "items"}  # the other views' modules (and help's) come when shown
    assert "textual.widgets._data_table" not in first  # our table is our own widget
    assert {m.split(".")[0] for m in first} & {"openpyxl", "httpx", "jinja2", "chinese_calendar"} == set()
    assert not {m for m in first if m.startswith("dashboard_plugins.export_")}
    assert [out[k] for k in "udwkz"] == [
        "UnitsScreen",
        "SourcesScreen",
        "AlertsScreen",
        "CasesScreen",
        "QualityScreen",
    ]

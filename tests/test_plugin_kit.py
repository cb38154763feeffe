"""The plugin kit (issue 16): the example package installed in a fresh venv as a user would,
`dashboard plugins --trace` and DASHBOARD_TRACE, a misspelled hook in an installed plugin,
and docs/plugins.md covering every hook and contract type."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_COUNTS, SAMPLE_CSV, run_cli, write_config
from pytest_httpserver import HTTPServer
from screen_text import loaded

from dashboard.config import load_config
from dashboard.ui.app import make_app

EXAMPLE = ROOT / "examples" / "zhuanban-city-json"
TRACE_LINE = re.compile(r"^\[trace\] (?P<what>.+?) plugin=(?P<plugin>\S+) (?P<ms>\d+\.\d)ms (?P<outcome>.+)$")


def trace_lines(stderr: str) -> list[dict[str, str]]:
    return [m.groupdict() for line in stderr.splitlines() if (m := TRACE_LINE.match(line))]


def make_venv(folder: Path) -> Path:
    """A fresh venv that sees this interpreter's packages (the dashboard from its checkout)
    but holds nothing of its own; returns its python."""
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(folder)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if sys.prefix != sys.base_prefix:  # run from a venv: system_site_packages would skip its packages
        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        ours = sysconfig.get_paths()["purelib"]
        Path(site, "_parent_env.pth").write_text(
            f"import site; site.addsitedir({ours!r})\n", encoding="utf-8"
        )
    return python


def test_the_example_plugin_installed_in_a_fresh_venv_works_with_dashboard_check(tmp_path: Path) -> None:
    # The package is copied first: building it must not leave build/ or egg-info in the checkout.
    package = tmp_path / "zhuanban-city-json"
    shutil.copytree(EXAMPLE, package, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    python = make_venv(tmp_path / "venv")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(package)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    config = write_config(
        tmp_path,
        [
            {
                "name": "湘潭市平台",
                "type": "city_json",
                "path": str(package / "sample" / "xiangtan-city-2024-09.json"),
                "county": "湘乡市",
            }
        ],
    )

    def dashboard(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "dashboard", *args, "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    listing = dashboard("plugins", "--json")
    assert listing.returncode == 0, listing.stderr
    record = next(r for r in json.loads(listing.stdout) if r["name"] == "city_json")
    assert record == {
        "name": "city_json",
        "kinds": ["source"],
        "provides": ["city_json"],
        "origin": "zhuanban-city-json 0.1.0",
        "error": None,
    }
    proc = dashboard("check", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS
    assert [(b["id"], b["unit"], round(b["ratio"], 2)) for b in report["behind"]] == [
        ("45", "公安局交警大队", 0.32)
    ]
    assert report["as_of"] == "2024-09-30"

    # This interpreter never saw the package: only the venv has it.
    here = run_cli("check", "--config", str(config))
    assert here.returncode == 2 and "city_json" in here.stderr

    # The example's own tests, run as its author would, in the venv (the last one runs check).
    tests = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        cwd=package,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert re.search(r"\b14 passed\b", tests.stdout) and "skipped" not in tests.stdout, tests.stdout


def test_plugins_trace_logs_each_load_and_hook_call_to_stderr(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    plain = run_cli("plugins", "--config", str(config))
    traced = run_cli("plugins", "--trace", "--config", str(config))
    assert traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout  # the listing itself is unchanged
    assert plain.stderr == ""
    lines = trace_lines(traced.stderr)
    assert len(lines) == len(traced.stderr.splitlines())  # every stderr line is a trace line
    seen = {(line["what"], line["plugin"]) for line in lines}
    assert ("load entry_point=dashboard_plugins.csv_source", "csv") in seen
    hooks = {
        "dashboard_source_types": {"csv", "rest", "mashangtong"},
        "dashboard_sink_types": {"sink_jsonl", "sink_csv", "sink_webhook", "sink_wecom"},
        "dashboard_exporters": {"export_csv", "export_xlsx", "export_md", "export_html", "export_json"},
    }
    for hook, plugins in hooks.items():
        called = {line["plugin"] for line in lines if line["what"] == hook}
        assert plugins <= called, (hook, called)
    csv_hook = next(
        line for line in lines if line["what"] == "dashboard_source_types" and line["plugin"] == "csv"
    )
    assert csv_hook["outcome"] == "ok 1 entries"


def test_dashboard_trace_env_times_fetches_and_deliveries_without_secrets(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_json({"ok": True})
    secret = "s3cr3t-token-do-not-log"
    url = httpserver.url_for("/hook") + f"?access_token={secret}"
    config = write_config(
        tmp_path,
        [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra="",
    )
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[[sinks]]\nname = "值班"\ntype = "webhook"\nurl_env = "P9_HOOK_URL"\n'
        f'[[sinks]]\nname = "留档"\ntype = "jsonl"\npath = {json.dumps(str(tmp_path / "a.jsonl"))}\n',
        encoding="utf-8",
    )
    env = {"DASHBOARD_TRACE": "1", "P9_HOOK_URL": url}
    proc = run_cli("check", "--json", "--config", str(config), env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # stdout is still the report alone
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS
    lines = trace_lines(proc.stderr)
    by_what = {line["what"]: line for line in lines}
    assert by_what["create source=通报 type=csv"]["plugin"] == "csv"
    assert by_what["fetch source=通报 type=csv"]["outcome"] == "ok 45 items"
    deliveries = [
        line for line in lines if line["what"].startswith("deliver") and "sink=值班" in line["what"]
    ]
    assert deliveries and {d["plugin"] for d in deliveries} == {"sink_webhook"}
    assert any("sink=留档 type=jsonl" in line["what"] for line in lines)
    assert len(httpserver.log) >= 1  # the severe item 45 really went out
    assert secret not in proc.stderr and "access_token" not in proc.stderr

    # DASHBOARD_TRACE_FILE: the same lines in a file (for the TUI), none on stderr.
    trace_file = tmp_path / "trace.log"
    export = run_cli(
        "export", "--view", "items", "--format", "csv", "-o", "-", "--config", str(config),
        env={"DASHBOARD_TRACE_FILE": str(trace_file)},
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    assert "[trace]" not in export.stderr and export.stdout.count("\n") >= 46
    written = trace_lines(trace_file.read_text(encoding="utf-8"))
    writes = [line for line in written if line["what"] == "write format=csv"]
    assert [w["plugin"] for w in writes] == ["export_csv"] and writes[0]["outcome"] == "ok"


MISSPELLED = """
from dashboard import hookimpl


@hookimpl
def dashboard_exporter():
    return []


@hookimpl
def dashboard_sink_type():
    return []
"""


def test_an_installed_plugin_with_a_misspelled_hook_is_told_the_nearest_name(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "zb_typo.py").write_text(MISSPELLED, encoding="utf-8")
    info = site / "zb_typo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zb-typo\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[dashboard.plugins]\nzb_typo = zb_typo\n", encoding="utf-8")
    config = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    env = {"PYTHONPATH": str(site)}
    listing = run_cli("plugins", "--json", "--config", str(config), env=env)
    assert listing.returncode == 0, listing.stderr
    record = next(r for r in json.loads(listing.stdout) if r["name"] == "zb_typo")
    assert record["origin"] == "zb-typo 1.0"
    assert "未知的钩子 unknown hook dashboard_exporter，是否想写 `dashboard_exporters`？" in record["error"]
    assert "未知的钩子 unknown hook dashboard_sink_type，是否想写 `dashboard_sink_types`？" in record["error"]
    proc = run_cli("check", "--json", "--config", str(config), env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["items"] == 45


def test_docs_plugins_cover_every_hook_and_contract_type_and_their_examples_compile() -> None:
    from dashboard import contracts, hookspecs

    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    hooks = [name for name in dir(hookspecs) if name.startswith("dashboard_")]
    for hook in hooks:
        assert f"### `{hook}`" in text, f"{hook} has no section in docs/plugins.md"
    for name in ("SourceType", "SourceSpec", "FetchResult", "Source", "ConfigError", "SourceError"):
        assert f"`{name}`" in text, name
        assert hasattr(contracts, name)
    for words in ("DASHBOARD_TRACE", "DASHBOARD_TRACE_FILE", "dashboard.plugins", "sys.exit", "examples/"):
        assert words in text, words
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= len(hooks)
    for block in blocks:
        ast.parse(block)  # every example is valid Python


def test_the_four_examples_in_docs_plugins_work_as_plugins(tmp_path: Path) -> None:
    """docs/plugins.md's source, sink, exporter and rule, dropped into plugins_dir as they are."""
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    local = tmp_path / "local_plugins"
    local.mkdir()
    for name, block in zip(("doc_source", "doc_sink", "doc_exporter", "doc_rule"), blocks, strict=False):
        (local / f"{name}.py").write_text(block, encoding="utf-8")
    shutil.copy(EXAMPLE / "sample" / "xiangtan-city-2024-09.json", tmp_path / "city.json")
    config = write_config(
        tmp_path,
        [
            {"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)},
            {"name": "市平台", "type": "city_json", "path": "city.json"},
        ],
        extra=f'plugins_dir = "{local.name}"',
        as_of="2024-10-31",
    )
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[[sinks]]\nname = "文本"\ntype = "textfile"\npath = "alerts.txt"\n'
        "[alerts.rules.provincial_behind]\nenabled = true\nshare = 0.95\n",
        encoding="utf-8",
    )
    listing = json.loads(run_cli("plugins", "--json", "--config", str(config)).stdout)
    provided = {r["name"]: (r["provides"], r["error"]) for r in listing if r["name"].startswith("local:")}
    assert provided == {
        "local:doc_source": (["city_json"], None),
        "local:doc_sink": (["textfile"], None),
        "local:doc_exporter": (["tsv"], None),
        "local:doc_rule": (["provincial_behind"], None),
    }

    proc = run_cli("check", "--json", "--config", str(config), env={"DASHBOARD_TRACE": "1"})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    city = next(s for s in report["sources"] if s["name"] == "市平台")
    assert city["ok"] is True and city["items"] == 48  # the city's 45 + 3 records
    # At 2024-10-31 (expected 83.3%) 省实事 below 95% of it (79.2%): 27 at 76.0%, six at 75.0%.
    lines = (tmp_path / "alerts.txt").read_text(encoding="utf-8").splitlines()
    provincial = sorted(re.search(r"\[(\d+)\]", line)[1] for line in lines if "省实事低于" in line)  # type: ignore[index]
    assert provincial == ["27", "35", "36", "37", "38", "40", "41"]
    assert any("严重滞后：[45]" in line for line in lines)
    checks = [line for line in trace_lines(proc.stderr) if line["what"] == "check rule=provincial_behind"]
    assert checks and checks[0]["plugin"] == "local:doc_rule" and checks[0]["outcome"] == "ok 7 entries"

    export = run_cli("export", "--view", "items", "--format", "tsv", "-o", "-", "--config", str(config))
    assert export.returncode == 0, export.stderr
    rows = export.stdout.lstrip("\ufeff").splitlines()
    assert rows[0].split("\t")[:4] == ["序号", "实事类别", "项目名称", "牵头单位"]
    assert len(rows) == 1 + 48  # the bulletin's 45 merge with the city's same 45; 韶山市's 3 added


async def test_the_tui_traces_to_dashboard_trace_file_not_over_its_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_file = tmp_path / "tui-trace.log"
    monkeypatch.setenv("DASHBOARD_TRACE_FILE", str(trace_file))
    config = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    app = make_app(load_config(config))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert app.snapshot is not None and len(app.snapshot.evaluated) == 45
    fetches = [
        line
        for line in trace_lines(trace_file.read_text(encoding="utf-8"))
        if line["what"].startswith("fetch")
    ]
    assert fetches and fetches[0] == {
        "what": "fetch source=通报 type=csv",
        "plugin": "csv",
        "ms": fetches[0]["ms"],
        "outcome": "ok 45 items",
    }
    assert "[trace]" not in capsys.readouterr().err


def test_an_unwritable_trace_file_never_fails_a_plugin(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    missing = tmp_path / "no-such-folder" / "trace.log"
    proc = run_cli("check", "--json", "--config", str(config), env={"DASHBOARD_TRACE_FILE": str(missing)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["by_status"] == SAMPLE_COUNTS  # every plugin still loaded
    assert proc.stderr.count("无法写入追踪文件") == 1  # said once, then the lines go to stderr
    assert any(line["what"] == "fetch source=通报 type=csv" for line in trace_lines(proc.stderr))

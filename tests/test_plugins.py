"""Plugins: the entry point group, plugins_dir, and isolation of a plugin that raises."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

from conftest import SAMPLE_CSV, run_cli

FIXED_PLUGIN = """
from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceType
from dashboard.core.items import Item


class Fixed:
    def __init__(self, spec):
        spec.check_options({"ratio": "percent"})
        self.ratio = float(spec.options.get("ratio", 50)) / 100

    async def fetch(self):
        return FetchResult([Item(id="x1", name="外部插件项目", unit="外部单位", ratio=self.ratio)])


@hookimpl
def dashboard_source_types():
    return [SourceType("fixed", Fixed, "a fixed item")]
"""

BROKEN_PLUGIN = """
from dashboard import hookimpl
from dashboard.contracts import SourceType


class Broken:
    def __init__(self, spec):
        pass

    async def fetch(self):
        raise RuntimeError("plugin bug")


@hookimpl
def dashboard_source_types():
    return [SourceType("broken", Broken)]
"""


def install_fake_distribution(site: Path, dist: str, module: str, code: str) -> None:
    """A plugin package as pip would leave it: a module and a dist-info with entry points."""
    (site / f"{module}.py").write_text(code, encoding="utf-8")
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[dashboard.plugins]\n{module} = {module}\n", encoding="utf-8")


def test_entry_point_plugin_is_listed_and_used(tmp_path: Path, config_writer: Callable[..., Path]) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(site, "zb-fixed-plugin", "zb_fixed", FIXED_PLUGIN)
    env = {"PYTHONPATH": str(site)}
    cfg = config_writer(
        [
            {"name": "sample", "type": "csv", "path": str(SAMPLE_CSV)},
            {"name": "ext", "type": "fixed", "ratio": 30},
        ]
    )
    listing = run_cli("plugins", "--config", str(cfg), env=env)
    assert listing.returncode == 0, listing.stderr
    line = next(line for line in listing.stdout.splitlines() if line.startswith("zb_fixed"))
    assert "source" in line and "fixed" in line and "zb-fixed-plugin 1.0" in line
    assert any(line.startswith("csv") and "内置" in line for line in listing.stdout.splitlines())

    proc = run_cli("check", "--config", str(cfg), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["items"] == 46
    assert report["by_status"]["severe"] == 2
    assert {"x1", "45"} == {b["id"] for b in report["behind"]}


def test_plugin_that_raises_leaves_other_sources(tmp_path: Path, config_writer: Callable[..., Path]) -> None:
    local = tmp_path / "local_plugins"
    local.mkdir()
    (local / "broken.py").write_text(BROKEN_PLUGIN, encoding="utf-8")
    (local / "import_error.py").write_text("raise ImportError('missing dependency')\n", encoding="utf-8")
    cfg = config_writer(
        [
            {"name": "sample", "type": "csv", "path": str(SAMPLE_CSV)},
            {"name": "bad", "type": "broken"},
        ],
        extra=f'plugins_dir = "{local.name}"',
    )
    proc = run_cli("check", "--config", str(cfg), "--json")
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert report["items"] == 45
    bad = next(s for s in report["sources"] if s["name"] == "bad")
    assert bad["ok"] is False and "plugin bug" in bad["error"]

    listing = run_cli("plugins", "--config", str(cfg))
    assert "local:broken" in listing.stdout
    assert "missing dependency" in listing.stdout  # the broken import is reported, not fatal


def test_hooks_are_documented() -> None:
    from dashboard import hookspecs

    hooks = [name for name in dir(hookspecs) if name.startswith("dashboard_")]
    assert set(hooks) == {
        "dashboard_source_types",
        "dashboard_sink_types",
        "dashboard_exporters",
        "dashboard_alert_rules",
    }
    for name in hooks:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert len(textwrap.dedent(doc).strip()) > 80, f"{name} is undocumented"

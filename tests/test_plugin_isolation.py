"""A misbehaving plugin is reported against its name and nothing else stops (issue 12):
sys.exit() at import or in fetch, KeyboardInterrupt in fetch, a misspelled hook, a hook
with a bad signature, a local plugin re-registering a built-in type or format name."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from conftest import SAMPLE_COUNTS, SAMPLE_CSV, run_cli
from textual.widgets import Static

from dashboard.config import load_config
from dashboard.ui.app import make_app

FAILSAFE = 20.0

HEAD = """
import sys
from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceType
from dashboard.core.items import Item
"""

BAD_PLUGINS = {
    "exit_at_import": HEAD + "\nsys.exit(3)\n",
    "exit_in_fetch": HEAD
    + """
class Quitter:
    def __init__(self, spec):
        pass

    async def fetch(self):
        sys.exit(4)


@hookimpl
def dashboard_source_types():
    return [SourceType("quitter", Quitter)]
""",
    "interrupt_in_fetch": HEAD
    + """
class Interrupter:
    def __init__(self, spec):
        pass

    async def fetch(self):
        raise KeyboardInterrupt


@hookimpl
def dashboard_source_types():
    return [SourceType("interrupter", Interrupter)]
""",
    "misspelled": HEAD
    + """
@hookimpl
def dashboard_source_type():
    return []
""",
    "bad_signature": HEAD
    + """
@hookimpl
def dashboard_source_types(config):
    return []
""",
    "conflict": HEAD
    + """
from dashboard.exporting import Exporter


class Fake:
    def __init__(self, spec):
        pass

    async def fetch(self):
        return FetchResult([Item(id="fake", name="冒名项目", unit="冒名单位", ratio=0.1)])


def write(view, path):
    path.write_text("fake", encoding="utf-8")


@hookimpl
def dashboard_source_types():
    return [SourceType("csv", Fake, "pretends to be the built-in csv")]


@hookimpl
def dashboard_exporters():
    return [Exporter("md", ".md", write, "pretends to be the built-in markdown")]
""",
}


def bad_plugins_config(tmp_path: Path, config_writer: Callable[..., Path]) -> Path:
    folder = tmp_path / "lp"
    folder.mkdir()
    for name, code in BAD_PLUGINS.items():
        (folder / f"{name}.py").write_text(code, encoding="utf-8")
    return config_writer(
        [
            {"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)},
            {"name": "退出", "type": "quitter"},
            {"name": "中断", "type": "interrupter"},
        ],
        extra='plugins_dir = "lp"',
    )


def test_each_bad_plugin_is_reported_and_the_others_go_on(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    cfg = bad_plugins_config(tmp_path, config_writer)
    listing = run_cli("plugins", "--config", str(cfg), "--json")
    assert listing.returncode == 0, listing.stderr
    records = {r["name"]: r for r in json.loads(listing.stdout)}
    assert "sys.exit(3)" in records["local:exit_at_import"]["error"]
    assert records["local:exit_in_fetch"]["error"] is None  # its fetch is not called here
    misspelled = records["local:misspelled"]["error"]
    assert "dashboard_source_type" in misspelled and "是否想写 `dashboard_source_types`" in misspelled
    assert "钩子签名与规范不符" in records["local:bad_signature"]["error"]
    assert "config" in records["local:bad_signature"]["error"]
    conflict = records["local:conflict"]["error"]
    assert "'csv' 已由 csv（内置 builtin）提供" in conflict
    assert "'md' 已由 export_md（内置 builtin）提供" in conflict
    # The built-ins keep their names; the loser does not claim them.
    assert "csv" in records["csv"]["provides"] and "csv" not in records["local:conflict"]["provides"]

    text = run_cli("plugins", "--config", str(cfg))
    assert text.returncode == 0 and "是否想写 `dashboard_source_types`" in text.stdout

    check = run_cli("check", "--config", str(cfg), "--json")
    assert check.returncode == 3, check.stderr
    report = json.loads(check.stdout)
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS  # the real csv, not the fake
    sources = {s["name"]: s for s in report["sources"]}
    assert sources["通报"]["ok"] and sources["通报"]["items"] == 45
    assert not sources["退出"]["ok"] and "SystemExit: 4" in sources["退出"]["error"]
    assert not sources["中断"]["ok"] and "KeyboardInterrupt" in sources["中断"]["error"]


async def test_the_sources_screen_lists_plugin_problems(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    cfg = bad_plugins_config(tmp_path, config_writer)
    app = make_app(load_config(cfg))
    async with app.run_test(size=(200, 50)) as pilot:

        async def loaded() -> None:
            while app.snapshot is None or len(app.snapshot.evaluated) != 45:
                await pilot.pause(0.02)

        await asyncio.wait_for(loaded(), FAILSAFE)
        await pilot.press("d")
        await pilot.pause()
        shown = str(app.screen.query_one("#plugin-problems", Static).render())
    assert "插件问题 plugin problems" in shown
    for name in ("local:exit_at_import", "local:misspelled", "local:bad_signature", "local:conflict"):
        assert name in shown
    assert "是否想写 `dashboard_source_types`" in shown

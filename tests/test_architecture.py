"""The house rules that keep the architecture readable (style.md): a pure core, a
headless runtime that never imports the UI, and plugins that use the public contract."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE_FORBIDDEN = {
    "textual",
    "rich",
    "httpx",
    "sqlite3",
    "openpyxl",
    "watchfiles",
    "asyncio",
    "os",
    "io",
    "csv",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_is_pure() -> None:
    for path in sorted((ROOT / "dashboard" / "core").glob("*.py")):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in CORE_FORBIDDEN}
        bad |= {
            m
            for m in imported_modules(path)
            if m.startswith("dashboard.") and not m.startswith("dashboard.core")
        }
        assert not bad, f"{path.name} imports {sorted(bad)}"
        source = path.read_text(encoding="utf-8")
        assert "open(" not in source, f"{path.name} does file I/O"


def test_headless_modules_never_import_the_ui() -> None:
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        if "ui" in path.relative_to(ROOT / "dashboard").parts or path.name == "tui.py":
            continue
        # textual_serve is not Textual: it runs the app in a subprocess (dashboard serve).
        bad = {
            m for m in imported_modules(path) if m.startswith("dashboard.ui") or m.split(".")[0] == "textual"
        }
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_builtin_plugins_are_registered_through_the_entry_point_group() -> None:
    from importlib.metadata import entry_points

    registered = {ep.value.split(":")[0] for ep in entry_points(group="dashboard.plugins")}
    modules = {f"dashboard_plugins.{p.stem}" for p in (ROOT / "plugins").glob("*.py") if p.stem != "__init__"}
    assert modules <= registered, f"not registered: {sorted(modules - registered)}"


def test_core_type_checks_strictly() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "dashboard/core"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_lint_is_clean() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "dashboard", "plugins", "tests"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

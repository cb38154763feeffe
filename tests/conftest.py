"""Shared fixtures: the bundled sample, config writers, and an isolated data dir."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "dashboard" / "data" / "xiangxiang-2024-09.csv"
SAMPLE_UPDATES = ROOT / "dashboard" / "data" / "xiangxiang-2024-monthly-updates.csv"
SAMPLE_MST_XLSX = ROOT / "dashboard" / "data" / "mashangtong-2024-09.xlsx"
SAMPLE_MST_CSV = ROOT / "dashboard" / "data" / "mashangtong-2024-09.csv"
DEFAULT_CONFIG = ROOT / "dashboard.toml"

# The figures of the September 2024 bulletin (design §2).
SAMPLE_COUNTS = {"done": 25, "on_track": 19, "lagging": 0, "severe": 1, "unknown": 0}


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own store / alert / export folder."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(state))
    return state


def sample_rows() -> list[list[str]]:
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_every_rule_config(folder: Path, tail: str = "", routes: str = "") -> Path:
    """Design §5 with every rule on, at as-of 2024-07-31, on the bulletin and the 码上通 export:
    23 events (18 missing_update, 2 acceptance_behind, 2 comments_unanswered, severe:45).
    `routes` goes above the sources, `tail` (sinks) after the rules."""
    config = folder / "dashboard.toml"
    config.write_text(
        f"""as_of = "2024-07-31"
{routes}
[[sources]]
name = "通报"
type = "csv"
path = {json.dumps(str(SAMPLE_CSV))}
[[sources]]
name = "码上通"
type = "mashangtong"
path = {json.dumps(str(SAMPLE_MST_XLSX))}
[alerts.rules.acceptance_behind]
enabled = true
[alerts.rules.comments_unanswered]
enabled = true
{tail}""",
        encoding="utf-8",
    )
    return config


def toml_value(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)


def write_config(
    folder: Path, sources: list[dict[str, object]], extra: str = "", as_of: str = "2024-09-30"
) -> Path:
    """A dashboard.toml in `folder` with the given [[sources]] tables."""
    lines = [f'as_of = "{as_of}"', extra, ""]
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in source.items()]
        lines.append("")
    path = folder / "dashboard.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def config_writer(tmp_path: Path) -> Callable[..., Path]:
    def make(sources: list[dict[str, object]], extra: str = "", as_of: str = "2024-09-30") -> Path:
        return write_config(tmp_path, sources, extra, as_of)

    return make


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a user would (`python -m dashboard ...`)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=120,
    )

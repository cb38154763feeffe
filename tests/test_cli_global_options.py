"""Options given before the subcommand (`dashboard --config X check`) are not dropped
by the subcommand's own defaults (they used to be: the bundled sample was checked)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli, sample_rows, write_config, write_csv


def test_config_and_as_of_before_the_subcommand_are_kept(tmp_path: Path) -> None:
    rows = sample_rows()
    header_at = next(i for i, r in enumerate(rows) if "牵头单位" in r)
    body = [r for r in rows[header_at + 1 :] if r and r[0] not in {"40", "41", "42"}]
    csv_path = write_csv(tmp_path / "few.csv", rows[: header_at + 1] + body)
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(csv_path)}])
    before = run_cli("--config", str(cfg), "--as-of", "2024-10-07", "check", "--json", cwd=tmp_path)
    after = run_cli("check", "--json", "--config", str(cfg), "--as-of", "2024-10-07", cwd=tmp_path)
    for run in (before, after):
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["items"] == 42
        assert report["as_of"] == "2024-10-07"


def test_every_subcommand_still_has_config_when_it_is_not_given() -> None:
    from dashboard.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["report", "--month", "2024-09"]).config is None
    assert parser.parse_args(["--config", "a.toml", "report", "--month", "2024-09"]).config == "a.toml"
    assert parser.parse_args(["report", "--month", "2024-09", "--config", "b.toml"]).config == "b.toml"
    assert parser.parse_args([]).config is None

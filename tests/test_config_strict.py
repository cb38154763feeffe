"""Config values are never silently coerced: each bad value is exit 2 naming its key (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE_COUNTS, SAMPLE_CSV, run_cli

from dashboard.cli import main
from dashboard.config import load_config

SOURCE = f'[[sources]]\nname = "通报"\ntype = "csv"\npath = {json.dumps(str(SAMPLE_CSV))}\n'


def write(folder: Path, top: str = "", tables: str = "", source: str = "") -> Path:
    """A config with `top` keys first, the sample CSV source (plus `source` keys), then `tables`."""
    path = folder / "dashboard.toml"
    path.write_text(f"{top}\n{SOURCE}{source}\n{tables}\n", encoding="utf-8")
    return path


BAD = [
    # (top-level lines, source lines, table lines, the key named)
    ("", "", '[ui]\nkiosk = "no"', "ui.kiosk"),
    ("", "", "[ui]\nkiosk = 1", "ui.kiosk"),
    ("", "", '[ui]\nkiosk_interval = "fast"', "ui.kiosk_interval"),
    ("", "", '[ui]\nkiosk_interval = "10ms"', "ui.kiosk_interval"),
    ("", "", "[ui]\ntheme = 123", "ui.theme"),
    ("", "", '[ui]\ntheme = ""', "ui.theme"),
    ("title = { text = 1 }", "", "", "title"),
    ("title = 7", "", "", "title"),
    ("as_of = 20240930", "", "", "as_of"),
    ("as_of = 2024-09-30T10:00:00", "", "", "as_of"),
    ('as_of = "2024-13-01"', "", "", "as_of"),
    ("plugins_dir = 5", "", "", "plugins_dir"),
    ('plugins_dir = ""', "", "", "plugins_dir"),
    ("", "", "[export]\ndir = true", "export.dir"),
    ("", "", '[progress]\nperiod_start = "12-01"\nperiod_end = "03-31"', "progress.period_start"),
    ("", "", '[progress]\nperiod_start = "05-01"\nperiod_end = "05-01"', "progress.period_start"),
    ("", "", '[progress]\nperiod_end = "02-30"', "progress.period_end"),
    ("", "", "[progress]\nperiod_end = 1231", "progress.period_end"),
    ("", "", "[progress]\ndone_at = 0", "progress.done_at"),
    ("", "", "[progress]\ndone_at = 150", "progress.done_at"),
    ("", "", "[progress]\nlagging_below = 101", "progress.lagging_below"),
    ("", "", "[progress]\nsevere_below = -5", "progress.severe_below"),
    ("", "", "[progress]\nlagging_below = nan", "progress.lagging_below"),
    ("", "", '[progress]\nsevere_below = "25"', "progress.severe_below"),
    ("", "", "[progress]\nmethod = 3", "progress.method"),
    ("", "", '[progress]\nmethod = "weeks"', "progress.method"),
    ("", "", "[progress]\nthreshold_mode = true", "progress.threshold_mode"),
    ("", 'refresh = "1ms"', "", "sources[0].refresh"),
    ("", 'refresh = "0.5s"', "", "sources[0].refresh"),
    ("", "refresh = inf", "", "sources[0].refresh"),
    ("", 'refresh = "soon"', "", "sources[0].refresh"),
    ("", 'timeout = "10ms"', "", "sources[0].timeout"),
    ("", "timeout = nan", "", "sources[0].timeout"),
    ("", 'enabled = "no"', "", "sources[0].enabled"),
    ("", "", "[store]\npath = 123", "store.path"),
    # A robot's own options, read by its plugin.
    ("", "", '[[sinks]]\ntype = "webhook"\nurl = "https://h.example/a"\nretries = -1', "sinks[0].retries"),
    ("", "", '[[sinks]]\ntype = "webhook"\nurl = "https://h.example/a"\nretries = 2.5', "sinks[0].retries"),
    (
        "",
        "",
        '[[sinks]]\ntype = "webhook"\nurl = "https://h.example/a"\nrate_per_minute = nan',
        "sinks[0].rate_per_minute",
    ),
    ("", "", '[[sinks]]\ntype = "webhook"\nurl = "https://h.example/a"\ntimeout = "1ms"', "sinks[0].timeout"),
]


@pytest.mark.parametrize(
    ("top", "source", "tables", "key"), BAD, ids=[row[3] + ":" + row[0] + row[1] + row[2] for row in BAD]
)
def test_a_bad_value_is_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], top: str, source: str, tables: str, key: str
) -> None:
    cfg = write(tmp_path, top, tables, source)
    assert main(["check", "--config", str(cfg), "--json"]) == 2
    err = capsys.readouterr().err
    assert f"`{key}`" in err and str(cfg) in err and "应为" in err, err


def test_kiosk_no_as_a_user_runs_it(tmp_path: Path) -> None:
    """`kiosk = "no"` used to turn kiosk ON (bool("no") is True)."""
    cfg = write(tmp_path, tables='[ui]\nkiosk = "no"')
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2
    assert "ui.kiosk" in proc.stderr and "true | false" in proc.stderr


def test_good_values_at_the_edges_load_and_give_the_sample_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write(
        tmp_path,
        'title = "专班看板"\nas_of = 2024-09-30\nplugins_dir = "lp"',
        '[ui]\nkiosk = false\nkiosk_interval = "1s"\ntheme = "light"\n'
        '[progress]\nperiod_start = "01-01"\nperiod_end = "12-31"\ndone_at = 100\nlagging_below = 0\n'
        'severe_below = 25\nmethod = "months"\n[export]\ndir = "out"',
        'refresh = "1s"\ntimeout = "0.1s"\nenabled = true',
    )
    config = load_config(cfg)
    assert config.ui.kiosk is False and config.ui.kiosk_interval == 1.0 and config.ui.theme == "light"
    assert config.sources[0].refresh == 1.0 and config.sources[0].timeout == 0.1
    assert config.plugins_dir == tmp_path / "lp" and config.export_dir == tmp_path / "out"
    assert main(["check", "--config", str(cfg), "--json", "--no-alerts"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS and report["expected"] == 0.75


@pytest.mark.parametrize("path", ["dashboard.toml", "dashboard/data/dashboard.toml"])
def test_the_bundled_configs_still_load(path: str) -> None:
    root = Path(__file__).resolve().parents[1]
    config = load_config(root / path)
    assert config.ui.kiosk is False and len(config.sources) == 2


REST = '[[sources]]\nname = "省平台"\ntype = "rest"\nurl = "https://api.example.org/items"\n'


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("method = 3", "sources[1].method"),
        ('method = "DELETE"', "sources[1].method"),
        ('ratio_is_fraction = "yes"', "sources[1].ratio_is_fraction"),
        ("items_path = 5", "sources[1].items_path"),
        ('allow_insecure_http = "yes"', "sources[1].allow_insecure_http"),
        ("params = { year = { a = 1 } }", "sources[1].params.year"),
        ("as_of = 20240930", "sources[1].as_of"),
    ],
)
def test_a_bad_rest_option_is_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, key: str
) -> None:
    cfg = write(tmp_path, tables=f"{REST}{line}")
    assert main(["check", "--config", str(cfg)]) == 2
    assert f"`{key}`" in capsys.readouterr().err

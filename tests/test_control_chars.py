"""Escape sequences in a CSV cell (issue 12, security): `\x1b]0;pwned\x07` (set the window
title) and `\x1b[2J` (clear the screen) in a name never reach the terminal: not from
`check`, `alerts`, the JSON export, nor any segment the TUI renders."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from conftest import run_cli, sample_rows, write_csv
from textual.geometry import Region

from dashboard.config import load_config
from dashboard.ui.app import make_app

EVIL_NAME = "\x1b]0;pwned\x07危险项目\x1b[2J\u202etxt.exe\x9b31m"
EVIL_UNIT = "交警\x1b[5m大队\x85"
# ESC, BEL, every other C0 but line breaks, DEL, C1, bidi overrides/isolates.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def evil_config(tmp_path: Path, config_writer: Callable[..., Path]) -> Path:
    rows = sample_rows()
    rows.append(["46", "县实事", EVIL_NAME, EVIL_UNIT, "10", "1", "10%"])  # severe: shown everywhere
    write_csv(tmp_path / "evil.csv", rows)
    return config_writer([{"name": "evil", "type": "csv", "path": "evil.csv"}])


def test_check_alerts_and_export_print_no_control_characters(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    cfg = evil_config(tmp_path, config_writer)
    text = run_cli("check", "--config", str(cfg))
    as_json = run_cli("check", "--json", "--config", str(cfg))
    alerts = run_cli("alerts", "--config", str(cfg))
    alerts_json = run_cli("alerts", "--json", "--config", str(cfg))
    out = tmp_path / "items.json"
    export = run_cli("export", "--format", "json", "-o", str(out), "--config", str(cfg))
    assert export.returncode == 0, export.stderr
    report = json.loads(as_json.stdout)
    assert report["by_status"]["severe"] == 2  # item 45 and the new one
    behind = {b["id"]: b["name"] for b in report["behind"]}
    assert behind["46"] == "]0;pwned危险项目[2Jtxt.exe31m"  # readable, harmless
    assert "危险项目" in text.stdout and "危险项目" in alerts.stdout
    for name, output in [
        ("check", text.stdout + text.stderr),
        ("check --json", as_json.stdout),
        ("alerts", alerts.stdout + alerts.stderr),
        ("alerts --json", alerts_json.stdout),
        ("export json", out.read_text(encoding="utf-8")),
    ]:
        assert FORBIDDEN.search(output) is None, (name, FORBIDDEN.findall(output))


async def test_tui_renders_no_control_characters(tmp_path: Path, config_writer: Callable[..., Path]) -> None:
    app = make_app(load_config(evil_config(tmp_path, config_writer)))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        seen: list[str] = []
        for screen_key in ("o", "b", "w"):  # overview, lagging items, alerts
            await pilot.press(screen_key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            for widget in app.screen.walk_children():
                width, height = widget.size
                if not widget.display or width == 0 or height == 0:
                    continue
                for strip in widget.render_lines(Region(0, 0, width, height)):
                    seen.extend(segment.text for segment in strip)
        rendered = "".join(seen)
        assert "危险项目" in rendered  # the item is on screen ...
        assert FORBIDDEN.search(rendered) is None, FORBIDDEN.findall(rendered)  # ... without its escapes

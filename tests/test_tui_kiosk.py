"""Issue 13: the office screen cannot be changed by anyone passing. In kiosk mode (or
with `[ui] read_only = true` / `--read-only`) `a`, `m`, `e` change nothing and say
`只读模式`, `q` does not quit but Ctrl+Q does, and the header shows the rotation's state."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_CONFIG, SAMPLE_CSV, write_config
from screen_text import loaded, screen_lines

from dashboard.cli import build_parser
from dashboard.config import load_config
from dashboard.contracts import ConfigError
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.alerts import AlertsScreen


def sample_app(**ui: Any) -> tuple[DashboardApp, list[str]]:
    """The bundled sample with these `[ui]` settings, and the toasts it shows."""
    config = load_config(DEFAULT_CONFIG)
    for key, value in ui.items():
        setattr(config.ui, key, value)
    app = make_app(config)
    shown: list[str] = []
    notify = app.notify

    def record(message: str, **kwargs: Any) -> None:
        shown.append(str(message))
        notify(message, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return app, shown


def alert_45(app: DashboardApp) -> Any:
    """Item 45's alert as the store holds it now (read from SQLite, not from a screen)."""
    (record,) = [r for r in app.runtime.alert_records() if r.item_id == "45"]
    return record


async def test_kiosk_is_read_only_a_and_m_leave_the_critical_alert_open() -> None:
    app, shown = sample_app(kiosk=True, kiosk_interval=3600)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert app.read_only
        before = alert_45(app)
        assert before.state == "open" and before.severity == "critical"
        await pilot.press("w")
        assert isinstance(app.screen, AlertsScreen)
        await pilot.press("a", "m")
        after = alert_45(app)
        assert after.state == "open" and after.acknowledged_at is None and after.silenced_until is None
        assert app.runtime.open_alert_count() == 1
        assert sum("只读模式" in s for s in shown) == 2
        assert any("不能确认预警" in s for s in shown) and any("不能静默预警" in s for s in shown)
        table = app.screen.table
        assert str(table.get_row_at(0)[0]) == "未处理"


async def test_kiosk_export_writes_no_file_and_footer_offers_no_changes() -> None:
    app, shown = sample_app(kiosk=True, kiosk_interval=3600)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("w")
        await pilot.pause()
        footer = screen_lines(app)[-1]
        assert "确认" not in footer and "静默" not in footer and "导出" not in footer
        assert "Ctrl+Q 退出" in footer and "全部按键" in footer
        await pilot.press("e", "E")
        await app.workers.wait_for_complete()
        folder = app.config.export_dir
        assert folder is not None
        assert not folder.exists() or list(folder.iterdir()) == []
        assert sum("不能导出" in s for s in shown) == 2


async def test_read_only_q_does_not_quit_ctrl_q_does() -> None:
    app, shown = sample_app(kiosk=True, kiosk_interval=3600)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert any("按 Ctrl+Q 退出" in s for s in shown)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0


async def test_not_read_only_by_default_q_quits() -> None:
    app, _shown = sample_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert not app.read_only
        assert "q 退出" in screen_lines(app)[-1]
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0


async def test_kiosk_with_read_only_false_can_acknowledge() -> None:
    app, _shown = sample_app(kiosk=True, kiosk_interval=3600, read_only=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert not app.read_only
        await pilot.press("w", "a")
        assert alert_45(app).state == "acknowledged"


async def test_read_only_without_kiosk_refuses_ack_and_stays_still() -> None:
    app, shown = sample_app(read_only=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert app.read_only and not app.kiosk
        await pilot.press("w", "a")
        assert alert_45(app).state == "open"
        assert any("只读模式" in s for s in shown)
        assert "轮播" not in screen_lines(app)[0]  # not rotating: no rotation state
        await pilot.press("question_mark")
        await pilot.pause()
        assert any("只读模式" in line and "Ctrl+Q 退出" in line for line in screen_lines(app))


async def test_header_shows_rotation_then_paused_then_rotation_again() -> None:
    app, _shown = sample_app(kiosk=True, kiosk_interval=20)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert "轮播 ▶ 20s" in screen_lines(app)[0]
        await pilot.press("down")  # any key pauses the rotation
        await pilot.pause()
        header = screen_lines(app)[0]
        assert "已暂停 ⏸" in header and "轮播 ▶" not in header
        app.kiosk_tick(now=time.monotonic() + 61)  # a quiet minute later: rotating again
        await pilot.pause()
        assert "轮播 ▶ 20s" in screen_lines(app)[0]
        assert app.current_mode == "units"


def test_config_read_only_key(tmp_path: Path) -> None:
    source = [{"name": "sample", "type": "csv", "path": str(SAMPLE_CSV)}]
    cases = {
        "": False,
        "[ui]\nkiosk = true": True,  # on by default with the kiosk
        "[ui]\nkiosk = true\nread_only = false": False,
        "[ui]\nread_only = true": True,
    }
    for n, (extra, expected) in enumerate(cases.items()):
        folder = tmp_path / str(n)
        folder.mkdir()
        config = load_config(write_config(folder, source, extra=extra))
        assert config.ui.is_read_only() is expected, extra
    folder = tmp_path / "bad"
    folder.mkdir()
    with pytest.raises(ConfigError) as err:
        load_config(write_config(folder, source, extra='[ui]\nread_only = "yes"'))
    assert "ui.read_only" in str(err.value)


def test_read_only_flag_is_offered_by_the_cli() -> None:
    assert build_parser().parse_args(["--read-only"]).read_only is True
    assert build_parser().parse_args([]).read_only is False
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and "--read-only" in proc.stdout and "只读模式" in proc.stdout


ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def _read_until(master: int, proc: subprocess.Popen[bytes], wanted: str, seen: bytearray) -> bool:
    """Read the pseudo-terminal until `wanted` has been drawn (or the child ends, or 30 s):
    the text with the terminal's escape sequences taken out."""
    deadline = time.monotonic() + 30
    drawn = lambda: wanted.encode() in ESCAPES.sub(b"", bytes(seen))  # noqa: E731
    while not drawn() and proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                seen.extend(os.read(master, 65536))
            except OSError:
                break
    return drawn()


def test_dashboard_read_only_on_a_terminal_q_stays_ctrl_q_quits(isolated_state: Path) -> None:
    """`python -m dashboard --read-only` as a user runs it, on a pseudo-terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "--read-only", "--config", str(DEFAULT_CONFIG)],
        stdin=slave,
        stdout=slave,
        stderr=slave,  # Textual draws on stderr
        env={**os.environ, "TERM": "xterm-256color", "DASHBOARD_DATA_DIR": str(isolated_state)},
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        assert _read_until(master, proc, "Ctrl+Q 退出", seen), "no read-only footer drawn"
        assert _read_until(master, proc, "未处理预警", seen)  # the data is in
        del seen[:]
        os.write(master, b"q")
        assert _read_until(master, proc, "按 Ctrl+Q 退出", seen)  # said, and still running
        assert proc.poll() is None
        os.write(master, b"\x11")  # Ctrl+Q
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"Traceback" not in seen

"""The command line tells the truth (issue 13): columns aligned by display width,
`| head -1` without a traceback, `export -o -` to stdout, file modes from the umask,
`ack --for 7d`, and no traceback from any command a user types."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_CSV, run_cli, sample_rows, write_csv

from dashboard.cli import main

SAMPLE = [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}]
FIELD_RE = re.compile(r"\S+(?: \S+)*")  # a field: words joined by single spaces


def cells(text: str) -> int:
    """Terminal cells, counted independently of the code under test: wide CJK takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def field_starts(line: str) -> list[int]:
    return [cells(line[: m.start()]) for m in FIELD_RE.finditer(line)]


def start_of(line: str, pattern: str) -> int:
    m = re.search(pattern, line)
    assert m, (pattern, line)
    return cells(line[: m.start()])


def popen_cli(*args: str, **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard", *args],
        cwd=ROOT,
        env=dict(os.environ),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def cfg(config_writer: Callable[..., Path]) -> Path:
    return config_writer(SAMPLE)


@pytest.fixture
def three_alerts(tmp_path: Path, config_writer: Callable[..., Path]) -> Path:
    """The sample with item 44 severe too (10%) and item 43 lagging (60%): three alerts."""
    rows = sample_rows()
    for row in rows[1:]:
        if row[0] == "44":
            row[6] = "10.0%"
        elif row[0] == "43":
            row[6] = "60.0%"
    data = write_csv(tmp_path / "three.csv", rows)
    return config_writer([{"name": "通报", "type": "csv", "path": str(data)}])


# -- 1. columns aligned by display width ---------------------------------------------


def test_check_status_table_aligns_by_display_width(cfg: Path) -> None:
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    status = [
        line
        for line in proc.stdout.splitlines()
        if re.search(r" (done|on_track|lagging|severe|unknown) ", line)
    ]
    assert [line.split()[0] for line in status] == ["已完成", "正常", "滞后", "严重滞后", "未知"]
    assert [int(line.split()[-1]) for line in status] == [25, 19, 0, 1, 0]
    # The English keys start in one column, the counts end in one column.
    assert len({start_of(line, r"(done|on_track|lagging|severe|unknown)") for line in status}) == 1
    assert len({cells(line) for line in status}) == 1


def test_plugins_table_aligns_by_display_width(cfg: Path) -> None:
    proc = run_cli("plugins", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if not line.startswith("    ✗")]
    assert lines[0].startswith("插件 plugin") and any(line.startswith("export_xlsx ") for line in lines)
    starts = {tuple(field_starts(line)) for line in lines}
    assert len(starts) == 1, "\n".join(lines)  # header (Chinese) and every row start each column alike
    assert len(next(iter(starts))) == 4


def test_alerts_table_aligns_by_display_width(three_alerts: Path) -> None:
    assert run_cli("check", "--config", str(three_alerts)).returncode == 0
    assert run_cli("ack", "severe:44", "--for", "7d", "--config", str(three_alerts)).returncode == 0
    assert run_cli("ack", "lagging:43", "--config", str(three_alerts)).returncode == 0
    proc = run_cli("alerts", "--config", str(three_alerts))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    states = {line.split("  ")[0] for line in lines}
    until = date.today() + timedelta(days=7)
    assert states == {"未处理", "已确认", f"已静默 至 {until}"}
    for pattern in (
        r"(严重|警告|提示)",
        r"(severe|lagging):\d+",
        r"\d{4}-\d\d-\d\d \d\d:\d\d",
        r"(严重滞后|滞后)：",
    ):
        assert len({start_of(line, pattern) for line in lines}) == 1, (pattern, lines)


# -- 2. a closed pipe is not an error --------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("alerts",), ("plugins",), ("check",), ("export", "-o", "-", "--format", "csv")],
    ids=["alerts", "plugins", "check", "export-stdout"],
)
def test_reader_gone_exits_0_without_traceback(cfg: Path, args: tuple[str, ...]) -> None:
    if args == ("alerts",):
        assert run_cli("check", "--config", str(cfg)).returncode == 0  # severe:45 to list
    proc = popen_cli(*args, "--config", str(cfg), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader leaves before the first line is written
    _, err = proc.communicate(timeout=60)
    text = err.decode("utf-8", "replace")
    assert "Traceback" not in text and "BrokenPipeError" not in text, text
    assert proc.returncode == 0, text


@pytest.mark.parametrize("command", ["alerts", "plugins"])
def test_pipe_into_head_1(cfg: Path, command: str) -> None:
    assert run_cli("check", "--config", str(cfg)).returncode == 0
    shell = f"set -o pipefail; {sys.executable} -m dashboard {command} --config '{cfg}' | head -1"
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    first = proc.stdout.splitlines()
    assert len(first) == 1
    assert "severe:45" in first[0] if command == "alerts" else first[0].startswith("插件 plugin")


# -- 3. export -o - ---------------------------------------------------------------------


def test_export_dash_writes_csv_to_stdout(cfg: Path, tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard", "export", "--config", str(cfg), "-o", "-"],
        capture_output=True,
        cwd=cwd,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    rows = list(csv.reader(io.StringIO(proc.stdout.decode("utf-8-sig"))))
    assert len(rows) == 46 and rows[1][0] == "45" and rows[1][3] == "公安局交警大队"
    assert sum(1 for r in rows[1:] if r[-1] == "已完成") == 25
    assert list(cwd.iterdir()) == []  # no file named `-`
    assert "已导出 45 行到 标准输出" in proc.stderr.decode()


def test_export_xlsx_to_pipe_and_refused_on_a_terminal(cfg: Path, tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    piped = subprocess.run(
        [sys.executable, "-m", "dashboard", "export", "--config", str(cfg), "--format", "xlsx", "-o", "-"],
        capture_output=True,
        cwd=cwd,
        timeout=60,
    )
    assert piped.returncode == 0 and piped.stdout[:2] == b"PK"  # a zip: the workbook itself
    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(piped.stdout)).active
    assert ws is not None and "公安局交警大队" in {c.value for c in ws["D"]}

    primary, replica = os.openpty()
    try:
        tty = subprocess.run(
            [
                sys.executable,
                "-m",
                "dashboard",
                "export",
                "--config",
                str(cfg),
                "--format",
                "xlsx",
                "-o",
                "-",
            ],
            stdout=replica,
            stderr=subprocess.PIPE,
            cwd=cwd,
            timeout=60,
        )
    finally:
        os.close(replica)
        os.close(primary)
    err = tty.stderr.decode()
    assert tty.returncode == 2 and "二进制格式，不能写到终端" in err and "Traceback" not in err
    assert list(cwd.iterdir()) == []


# -- 4. file modes follow the umask -------------------------------------------------


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_export_and_report_modes_follow_the_umask(cfg: Path, tmp_path: Path, umask: int, mode: int) -> None:
    out = tmp_path / "items.csv"
    common = {"capture_output": True, "cwd": ROOT, "timeout": 60, "umask": umask}
    export = subprocess.run(
        [sys.executable, "-m", "dashboard", "export", "--config", str(cfg), "-o", str(out)], **common
    )  # type: ignore[call-overload]
    assert export.returncode == 0, export.stderr
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard",
            "report",
            "--month",
            "2024-09",
            "--config",
            str(cfg),
            "-o",
            str(tmp_path),
        ],
        **common,
    )  # type: ignore[call-overload]
    assert report.returncode == 0, report.stderr
    written = [out, tmp_path / "bulletin-2024-09.xlsx", tmp_path / "bulletin-2024-09.md"]
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in written} == {p.name: oct(mode) for p in written}


# -- 5. ack: the README's examples, --for, honest messages ------------------------------


def test_ack_past_until_is_a_usage_error_that_says_why(cfg: Path) -> None:
    assert run_cli("check", "--config", str(cfg)).returncode == 0
    proc = run_cli("ack", "severe:45", "--until", "2024-10-15", "--config", str(cfg))
    assert proc.returncode == 2
    assert proc.stderr.startswith("参数错误 usage error") and "配置错误" not in proc.stderr
    assert "2024-10-15 已经过去" in proc.stderr and f"今天是 {date.today()}" in proc.stderr
    assert "--for 7d" in proc.stderr
    listed = json.loads(run_cli("alerts", "--json", "--config", str(cfg)).stdout)["alerts"]
    assert [(a["key"], a["state"]) for a in listed] == [("severe:45", "open")]  # nothing changed


def test_ack_for_7d_silences_through_today_plus_7(cfg: Path) -> None:
    assert run_cli("check", "--config", str(cfg)).returncode == 0
    until = date.today() + timedelta(days=7)
    proc = run_cli("ack", "severe:45", "--for", "7d", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert f"已静默至 {until}" in proc.stdout
    listed = json.loads(run_cli("alerts", "--json", "--state", "silenced", "--config", str(cfg)).stdout)
    assert [(a["key"], a["silenced_until"]) for a in listed["alerts"]] == [("severe:45", until.isoformat())]


def test_readme_ack_examples_work(cfg: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"`dashboard (ack severe:45[^`]*)`", readme)
    assert examples and any("--for" in e for e in examples), examples
    for example in examples:
        assert run_cli("check", "--config", str(cfg)).returncode == 0
        proc = run_cli(*example.split(), "--config", str(cfg))
        assert proc.returncode == 0, (example, proc.stderr)


# -- 6. no traceback, ever -------------------------------------------------------------

BAD_ARGS: list[tuple[str, ...]] = [
    ("--bogus",),
    ("check", "--bogus"),
    ("check", "--as-of", "2024-13-01"),
    ("check", "--as-of", "2024-02-30"),
    ("check", "--as-of"),
    ("--as-of", "yesterday"),
    ("plugins", "--json", "extra"),
    ("alerts", "--state", "bogus"),
    ("alerts", "--state"),
    ("ack",),
    ("ack", "severe:45", "--until", "tomorrow"),
    ("ack", "severe:45", "--until", "auto"),
    ("ack", "severe:45", "--for", "5h"),
    ("ack", "severe:45", "--for", "0d"),
    ("ack", "severe:45", "--for", "7d", "--until", "2099-01-01"),
    ("export", "--view", "bogus", "--format", "csv"),
    ("export", "--format", "docx", "-o", "-"),
    ("export", "-o", "{tmp}/no_extension"),
    ("export", "--format", "csv", "-o", "/etc/passwd/items.csv"),
    ("export", "--format", "csv", "-o", "/proc/no-such-dir/items.csv"),
    ("report",),
    ("report", "--month", "2024-13"),
    ("report", "--month", "2024-09", "-o", "/etc/passwd"),
    ("store",),
    ("store", "bogus"),
    ("check", "--config", "{tmp}/no-such.toml"),
    ("check", "--config", "{tmp}"),  # a folder, not a file
    ("plugins", "--config", "{tmp}/broken.toml"),
    ("alerts", "--config", "{tmp}/binary.toml"),
]


CHINESE_ERROR = re.compile(r"(参数错误|配置错误|导出失败|写出附件失败)")


@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    (tmp_path / "broken.toml").write_text("x = [", encoding="utf-8")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00")
    return tmp_path


def test_no_traceback_from_any_bad_command(bad_files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every case through the real `main()` (in this process, for speed): an exception
    escaping it would be the traceback a user sees."""
    for args in BAD_ARGS:
        argv = [a.replace("{tmp}", str(bad_files)) for a in args]
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own exit, after printing its message
            code = exc.code  # type: ignore[assignment]
        out, err = capsys.readouterr()
        assert code == 2, (args, code, out, err)
        assert CHINESE_ERROR.search(err) and "Traceback" not in out + err, (args, err)
    assert not (ROOT / "-").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("check", "--bogus"),
        ("ack", "severe:45", "--until", "tomorrow"),
        ("export", "--format", "csv", "-o", "/etc/passwd/items.csv"),
        ("check", "--config", "{tmp}/binary.toml"),
    ],
    ids=["unknown-flag", "bad-date", "unwritable-o", "binary-config"],
)
def test_no_traceback_as_a_user_runs_it(bad_files: Path, args: tuple[str, ...]) -> None:
    proc = run_cli(*(a.replace("{tmp}", str(bad_files)) for a in args))
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert CHINESE_ERROR.search(proc.stderr), proc.stderr


def test_a_plugins_bug_is_an_internal_error_not_a_traceback(cfg: Path, tmp_path: Path) -> None:
    folder = cfg.parent / "lp"
    folder.mkdir()
    (folder / "broken_exporter.py").write_text(
        "from dashboard import hookimpl\n"
        "from dashboard.exporting import Exporter\n\n\n"
        "@hookimpl\n"
        "def dashboard_exporters():\n"
        "    return [Exporter('broken', None, lambda view, path: None)]  # no extension: a bug\n",
        encoding="utf-8",
    )
    cfg.write_text('plugins_dir = "lp"\n' + cfg.read_text(encoding="utf-8"), encoding="utf-8")
    proc = run_cli("export", "--config", str(cfg), "--format", "broken", "-o", str(tmp_path))
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == 1 and proc.stderr.startswith("内部错误 internal error:"), proc.stderr


def test_stdout_closed_is_not_an_internal_error(cfg: Path) -> None:
    listing = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m dashboard plugins --config '{cfg}' >&-"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert listing.returncode == 0 and listing.stderr == "", listing.stderr
    export = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m dashboard export -o - --config '{cfg}' >&-"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert export.returncode == 2 and "标准输出已关闭" in export.stderr, export.stderr
    assert "内部错误" not in export.stderr and "Traceback" not in export.stderr

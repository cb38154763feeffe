"""A torn line in an alert file (a full disk, `ulimit -f`, a kill mid-write) is repaired
on the next write and never read as an event; every line of alerts.jsonl is strict JSON
(RFC 8259). Real files, real `python -m dashboard check` runs under RLIMIT_FSIZE."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_CSV, run_cli, sample_rows, write_csv
from dashboard_plugins.sink_csv import CsvSink
from dashboard_plugins.sink_jsonl import JsonlSink, read_events

from dashboard.core.alerts import AlertEvent
from dashboard.sinks import SinkSpec, tail_lines

SEVERE_45 = (
    "严重滞后：[45] 重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)（公安局交警大队）"
)


def strict_lines(path: Path) -> list[dict[str, object]]:
    """Every line parsed as RFC 8259 JSON: NaN / Infinity or a torn line fail here."""

    def refuse(token: str) -> object:
        raise ValueError(f"non-standard JSON constant {token}")

    parts = path.read_bytes().decode().split("\n")
    if parts[-1] == "":
        parts.pop()  # after the final newline
    return [json.loads(line, parse_constant=refuse) for line in parts]


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_bytes().decode("utf-8-sig").splitlines()))


def config(tmp_path: Path, sink: str, out: Path, source: Path = SAMPLE_CSV) -> Path:
    cfg = tmp_path / "dashboard.toml"
    cfg.write_text(
        f'as_of = "2024-09-30"\n\n[[sources]]\nname = "s"\ntype = "csv"\npath = {json.dumps(str(source))}\n\n'
        f'[[sinks]]\nname = "file"\ntype = "{sink}"\npath = {json.dumps(str(out))}\n',
        encoding="utf-8",
    )
    return cfg


def check_json(cfg: Path) -> dict[str, object]:
    done = run_cli("check", "--json", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def event(n: int, **figures: float) -> AlertEvent:
    return AlertEvent(
        id=f"ev{n:04d}",
        key=f"severe:{n}",
        rule="severe",
        item_id=str(n),
        severity="critical",
        kind="fired",
        message=f"严重滞后：[{n}] 第 {n} 项",
        figures=figures or {"ratio": 0.32, "expected": 0.75, "gap": 0.43},
        at=datetime(2024, 9, 30, 9, 0),
        item_name=f"第 {n} 项",
        unit="公安局交警大队",
    )


def sink(kind: str, path: Path) -> JsonlSink | CsvSink:
    spec = SinkSpec("file", kind, {"path": str(path)}, path.parent)
    return JsonlSink(spec) if kind == "jsonl" else CsvSink(spec)


def test_a_half_written_json_line_is_cut_and_every_line_then_parses(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    cfg = config(tmp_path, "jsonl", out)
    assert check_json(cfg)["items"] == 45
    [first] = strict_lines(out)
    assert first["key"] == "severe:45"
    # A 263-byte torn line, as a full disk left it: the head of an event, no newline.
    torn = json.dumps({"id": "torn0001", "kind": "fired", "key": "severe:44", "message": "严重滞后" * 40})
    torn_bytes = torn.encode()[:263]
    with out.open("ab") as f:
        f.write(torn_bytes)
    assert tail_lines(out) == [out.read_bytes().decode().split("\n")[0]]  # a reader skips it
    assert [e["id"] for e in read_events(out)] == [first["id"]]

    rows = sample_rows()
    for row in rows:
        if row and row[0] == "45":
            row[6] = "80.0%"  # 45 recovers: a resolution to write after the torn line
    alerts = check_json(config(tmp_path, "jsonl", out, write_csv(tmp_path / "b.csv", rows)))["alerts"]
    assert [e["key"] for e in alerts["resolved"]] == ["severe:45"]  # type: ignore[index]
    lines = strict_lines(out)
    assert [(e["kind"], e["key"]) for e in lines] == [("fired", "severe:45"), ("resolved", "severe:45")]
    assert b"torn0001" not in out.read_bytes()
    assert out.stat().st_size == sum(len(json.dumps(e, ensure_ascii=False).encode()) + 1 for e in lines)


def test_a_whole_last_line_missing_only_its_newline_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    kept = json.dumps(event(1).to_dict(), ensure_ascii=False)
    out.write_text(kept, encoding="utf-8")  # hand-edited, no final newline
    sink("jsonl", out).deliver_batch([event(1), event(2)])
    assert [e["id"] for e in strict_lines(out)] == ["ev0001", "ev0002"]


def test_a_torn_csv_row_is_cut_and_the_row_written_whole_again(tmp_path: Path) -> None:
    out = tmp_path / "alerts.csv"
    csv_sink = sink("csv", out)
    csv_sink.deliver_batch([event(1)])
    whole = out.read_bytes()
    csv_sink.deliver_batch([event(2)])
    second_row = out.read_bytes()[len(whole) :]
    out.write_bytes(whole + second_row[: len(second_row) // 2])  # cut mid-row, mid-cell
    assert [r[0] for r in csv_rows(out)][:2] == ["事件ID id", "ev0001"]

    sink("csv", out).deliver_batch([event(2), event(3)])  # a new process: ev0002 still in its outbox
    rows = csv_rows(out)
    assert [r[0] for r in rows] == ["事件ID id", "ev0001", "ev0002", "ev0003"]
    assert all(len(r) == 13 for r in rows)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and out.read_bytes().count(b"\xef\xbb\xbf") == 1


def test_a_csv_cut_inside_its_header_starts_again_with_bom_and_header(tmp_path: Path) -> None:
    out = tmp_path / "alerts.csv"
    out.write_bytes(b"\xef\xbb\xbf\xe4\xba\x8b\xe4")  # BOM and a character and a half
    sink("csv", out).deliver_batch([event(7)])
    rows = csv_rows(out)
    assert [r[0] for r in rows] == ["事件ID id", "ev0007"] and out.read_bytes().count(b"\xef\xbb\xbf") == 1


def test_a_newline_inside_a_name_stays_on_the_events_csv_line(tmp_path: Path) -> None:
    out = tmp_path / "alerts.csv"
    sink("csv", out).deliver_batch([replace(event(3), item_name="第一行\n第二行")])
    assert out.read_bytes().count(b"\r\n") == 2  # header + one event
    assert csv_rows(out)[1][7] == "第一行 第二行"


def test_non_finite_figures_are_written_as_strict_json(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    sink("jsonl", out).deliver_batch([event(1, ratio=math.nan, expected=0.75, gap=math.inf)])
    [line] = strict_lines(out)
    assert line["figures"] == {"ratio": None, "expected": 0.75, "gap": None}


FULL_DISK = """
import resource, subprocess, sys
limit = int(sys.argv[1])
def cap():
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: EFBIG
sys.exit(subprocess.run(sys.argv[2:], preexec_fn=cap).returncode)
"""


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_a_full_disk_mid_line_is_repaired_by_the_next_run(tmp_path: Path, kind: str) -> None:
    """`ulimit -f` lets the append stop 263 bytes in; the event stays in the outbox,
    and once space returns the next run cuts the torn line and writes it whole."""
    out = tmp_path / f"alerts.{kind}"
    # Weeks of earlier events: the file is the largest the run writes, so only its append hits the cap.
    old = [event(n) for n in range(1, 8001)]
    sink(kind, out).deliver_batch(old)
    before = out.stat().st_size
    assert before > 1_000_000
    cfg = config(tmp_path, kind, out)

    limit = before + 263
    argv = [sys.executable, "-m", "dashboard", "check", "--json", "--config", str(cfg)]
    capped = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(limit), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.stat().st_size == limit  # the disk filled mid-line
    report = json.loads(capped.stdout)
    assert report["items"] == 45 and report["alerts"]["pending_delivery"] == 1
    [status] = report["alerts"]["sinks"]
    assert status["pending"] == 1 and "too large" in status["error"].lower()
    if kind == "jsonl":
        with pytest.raises(ValueError):
            strict_lines(out)  # what `jq` saw

    second = check_json(cfg)  # space is back
    assert second["alerts"]["fired"] == [] and second["alerts"]["pending_delivery"] == 0  # type: ignore[index]
    if kind == "jsonl":
        lines = strict_lines(out)
        assert len(lines) == 8001 and lines[-1]["key"] == "severe:45"
        assert str(lines[-1]["message"]).startswith(SEVERE_45)
        ids = [e["id"] for e in lines]
    else:
        rows = csv_rows(out)
        assert all(len(r) == 13 for r in rows) and len(rows) == 8002 and rows[-1][5] == "severe:45"
        ids = [r[0] for r in rows[1:]]
    assert len(set(ids)) == len(ids)


def test_fsync_no_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    from dashboard.contracts import ConfigError

    for kind in ("jsonl", "csv"):
        spec = SinkSpec("file", kind, {"path": str(tmp_path / "a"), "fsync": "no"}, tmp_path)
        with pytest.raises(ConfigError) as info:
            JsonlSink(spec) if kind == "jsonl" else CsvSink(spec)
        assert info.value.key == "sinks.fsync"

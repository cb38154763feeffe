"""督办 cases (issue 14): opened by hand or when an alert reaches 督办, noted, 已整改 when
the item's condition clears in the data, 已销号 when a person confirms; overdue fires its
own event once; every step is in the audit trail, in order, after a restart."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import SAMPLE_CSV, run_cli, sample_rows, toml_value, write_config, write_csv

from dashboard.config import load_config
from dashboard.runtime import Runtime

FUTURE = (date.today() + timedelta(days=30)).isoformat()


def jsonl_sink(folder: Path) -> str:
    return "\n".join(["[[sinks]]", 'type = "jsonl"', f"path = {toml_value(str(folder / 'events.jsonl'))}"])


def check(folder: Path, as_of: str, csv_path: Path = SAMPLE_CSV, extra: str = "") -> dict[str, object]:
    cfg = write_config(folder, [{"name": "通报", "type": "csv", "path": str(csv_path)}], extra, as_of)
    proc = run_cli("check", "--json", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def cli(folder: Path, *args: str) -> tuple[int, str, str]:
    proc = run_cli(*args, "--config", str(folder / "dashboard.toml"))
    return proc.returncode, proc.stdout, proc.stderr


def listed(folder: Path, *args: str) -> list[dict[str, object]]:
    code, out, err = cli(folder, "cases", "--json", *args)
    assert code == 0, err
    return json.loads(out)["cases"]  # type: ignore[no-any-return]


def trail(folder: Path, subject: str) -> list[dict[str, object]]:
    runtime = Runtime(load_config(folder / "dashboard.toml"))  # a new process's view: after a restart
    try:
        return runtime.alerts.trail(subject)
    finally:
        runtime.close()


def test_a_case_on_item_45_opened_noted_rectified_and_closed_is_in_the_trail_in_order(tmp_path: Path) -> None:
    report = check(tmp_path, "2024-09-30")
    assert report["by_status"] == {"done": 25, "on_track": 19, "lagging": 0, "severe": 1, "unknown": 0}
    code, out, err = cli(
        tmp_path, "case", "open", "45", "--deadline", FUTURE, "--action", "书面反馈整改情况", "--by", "张三"
    )
    assert code == 0, err
    assert "#1" in out and "公安局交警大队" in out
    code, _, err = cli(tmp_path, "case", "note", "1", "已约谈交警大队", "--by", "李四")
    assert code == 0, err
    [case] = listed(tmp_path)
    assert (case["item_id"], case["unit"], case["state"], case["author"]) == (
        "45",
        "公安局交警大队",
        "督办中",
        "张三",
    )
    assert [(n["author"], n["text"]) for n in case["notes"]] == [("李四", "已约谈交警大队")]  # type: ignore[index, union-attr]

    rows = sample_rows()
    for row in rows:
        if row and row[0] == "45":
            row[6] = "90.0%"  # above the 75% expected
    raised = write_csv(tmp_path / "bulletin.csv", rows)
    report = check(tmp_path, "2024-09-30", raised)
    assert report["by_status"] == {"done": 25, "on_track": 20, "lagging": 0, "severe": 0, "unknown": 0}
    assert [c["state"] for c in listed(tmp_path)] == ["已整改"]

    code, _, err = cli(tmp_path, "case", "close", "1", "--by", "王五")
    assert code == 0, err
    assert [c["state"] for c in listed(tmp_path, "--state", "closed")] == ["已销号"]

    steps = trail(tmp_path, "case:1")
    assert [(r["kind"], r["actor"]) for r in steps] == [
        ("case_opened", "张三"),
        ("case_noted", "李四"),
        ("case_rectified", "system"),
        ("case_closed", "王五"),
    ]
    times = [datetime.fromisoformat(str(r["at"])) for r in steps]
    assert times == sorted(times)
    assert steps[3]["before"]["state"] == "已整改" and steps[3]["after"]["state"] == "已销号"  # type: ignore[index]
    conn = sqlite3.connect(_store(tmp_path))
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit_trail SET actor = '某人' WHERE subject = 'case:1'")
    finally:
        conn.close()


def _store(folder: Path) -> Path:
    runtime = Runtime(load_config(folder / "dashboard.toml"))
    try:
        return Path(runtime.store.path)
    finally:
        runtime.close()


def test_the_ladders_third_bulletin_opens_one_case_for_item_45_and_a_rerun_no_second(tmp_path: Path) -> None:
    for as_of in ("2024-09-30", "2024-10-07", "2024-10-14", "2024-10-14"):
        check(tmp_path, as_of)
        if as_of == "2024-10-07":
            assert listed(tmp_path) == []  # 预警 opens no case
    [case] = listed(tmp_path)
    assert (case["item_id"], case["state"], case["alert_key"], case["author"]) == (
        "45",
        "督办中",
        "severe:45",
        "system",
    )
    assert case["deadline"] == "2024-10-24"  # as-of 10-14 + the default 10 days
    assert [r["kind"] for r in trail(tmp_path, "case:1")] == ["case_opened"]


def test_case_deadline_days_sets_the_automatic_deadline(tmp_path: Path) -> None:
    for as_of in ("2024-09-30", "2024-10-14"):
        check(tmp_path, as_of, extra="[alerts]\ncase_deadline_days = 3")
    assert [c["deadline"] for c in listed(tmp_path)] == ["2024-10-17"]
    cfg = write_config(
        tmp_path,
        [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}],
        "[alerts]\ncase_deadline_days = 0",
    )
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2 and "alerts.case_deadline_days" in proc.stderr


def test_an_overdue_case_fires_case_overdue_once_through_the_outbox(tmp_path: Path) -> None:
    extra = jsonl_sink(tmp_path)
    for as_of in ("2024-09-30", "2024-10-14", "2024-10-24"):
        check(tmp_path, as_of, extra=extra)
    assert listed(tmp_path, "--overdue") == []  # the deadline day itself is not overdue
    report = check(tmp_path, "2024-10-25", extra=extra)
    fired = report["alerts"]["fired"]  # type: ignore[index]
    assert [(e["rule"], e["key"], e["level_label"]) for e in fired] == [
        ("case_overdue", "case_overdue:1", "督办")
    ]
    assert "限期 2024-10-24" in fired[0]["message"]
    assert check(tmp_path, "2024-10-25", extra=extra)["alerts"]["fired"] == []  # type: ignore[index]
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["rule"] for e in lines] == ["severe", "severe", "case_overdue"]
    [case] = listed(tmp_path, "--overdue", "--unit", "公安局交警大队")
    assert case["overdue"] is True
    assert [r["kind"] for r in trail(tmp_path, "case:1")] == ["case_opened", "case_overdue"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (
            ("case", "open", "45", "--deadline", "2020-01-01", "--action", "整改", "--by", "张三"),
            "--deadline",
        ),
        (("case", "open", "999", "--deadline", FUTURE, "--action", "整改", "--by", "张三"), "ITEM"),
        (("case", "note", "7", "备注", "--by", "张三"), "ID"),
        (("case", "close", "7", "--by", "张三"), "ID"),
        (("cases", "--state", "完成"), "--state"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_argument_and_changes_nothing(
    tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    check(tmp_path, "2024-09-30")
    code, _, err = cli(tmp_path, *args)
    assert code == 2 and f"`{named}`" in err, err
    assert listed(tmp_path) == []
    assert trail(tmp_path, "case:7") == [] and trail(tmp_path, "case:1") == []


def test_a_note_on_a_closed_case_is_refused_and_reopen_brings_it_back(tmp_path: Path) -> None:
    check(tmp_path, "2024-09-30")
    assert (
        cli(tmp_path, "case", "open", "45", "--deadline", FUTURE, "--action", "整改", "--by", "张三")[0] == 0
    )
    assert cli(tmp_path, "case", "close", "1", "--by", "王五")[0] == 0
    code, _, err = cli(tmp_path, "case", "note", "1", "补充", "--by", "李四")
    assert code == 2 and "`ID`" in err and "已销号" in err
    assert [c["notes"] for c in listed(tmp_path)] == [[]]
    assert cli(tmp_path, "case", "reopen", "1", "--by", "王五")[0] == 0
    assert [c["state"] for c in listed(tmp_path)] == ["督办中"]
    assert [r["kind"] for r in trail(tmp_path, "case:1")] == ["case_opened", "case_closed", "case_reopened"]


def test_cases_export_like_any_view(tmp_path: Path) -> None:
    for as_of in ("2024-09-30", "2024-10-14"):
        check(tmp_path, as_of)
    code, out, err = cli(tmp_path, "export", "--view", "cases", "--format", "json", "-o", "-")
    assert code == 0, err
    data = json.loads(out)
    rows = data["rows"] if isinstance(data, dict) else data
    assert len(rows) == 1
    text = json.dumps(rows, ensure_ascii=False)
    assert "督办中" in text and "公安局交警大队" in text and "severe:45" in text and "2024-10-24" in text


def bulletin(folder: Path, ratio: str) -> Path:
    rows = sample_rows()
    for row in rows:
        if row and row[0] == "45":
            row[6] = ratio
    return write_csv(folder / "bulletin.csv", rows)


def test_a_rectified_case_relapsing_goes_back_to_督办中_and_no_second_case_opens(tmp_path: Path) -> None:
    for as_of in ("2024-09-30", "2024-10-14"):
        check(tmp_path, as_of)
    check(tmp_path, "2024-10-21", bulletin(tmp_path, "90.0%"))
    assert [c["state"] for c in listed(tmp_path)] == ["已整改"]
    check(tmp_path, "2024-10-22", bulletin(tmp_path, "32.0%"))  # behind again, before the deadline
    assert [(c["id"], c["state"]) for c in listed(tmp_path)] == [(1, "督办中")]
    kinds = [(r["kind"], r["actor"]) for r in trail(tmp_path, "case:1")]
    assert kinds == [("case_opened", "system"), ("case_rectified", "system"), ("case_reopened", "system")]


def test_store_repair_keeps_the_cases_their_notes_and_their_trail(tmp_path: Path) -> None:
    for as_of in ("2024-09-30", "2024-10-14"):
        check(tmp_path, as_of)
    assert cli(tmp_path, "case", "note", "1", "已约谈", "--by", "李四")[0] == 0
    code, _, err = cli(tmp_path, "store", "repair")
    assert code == 0, err
    [case] = listed(tmp_path)
    assert (case["state"], case["deadline"], case["notes"]) == (
        "督办中",
        "2024-10-24",
        [{"at": case["notes"][0]["at"], "author": "李四", "text": "已约谈"}],  # type: ignore[index]
    )
    assert [r["kind"] for r in trail(tmp_path, "case:1")] == ["case_opened", "case_noted"]


# A sink that writes the event, then dies (os._exit, as kill -9 would) at the first 督办.
CRASH_ON_SUPERVISE = """
import os
from pathlib import Path

from dashboard import hookimpl
from dashboard.sinks import SinkType
from dashboard_plugins.sink_jsonl import JsonlSink


class CrashOnSupervise:
    def __init__(self, spec):
        self.marker = Path(spec.options["marker"])
        self.inner = JsonlSink(type(spec)(spec.name, "jsonl", {"path": spec.options["path"]}, spec.base_dir))

    def deliver(self, event):
        self.inner.deliver(event)
        if event.level == "supervise" and not self.marker.exists():
            self.marker.write_text("crashed", encoding="utf-8")
            os._exit(17)


@hookimpl
def dashboard_sink_types():
    return [SinkType("crash_on_supervise", CrashOnSupervise, "", {"path": "", "marker": ""})]
"""


def test_killed_while_delivering_督办_keeps_one_case_and_sends_it_once(tmp_path: Path) -> None:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "crash.py").write_text(CRASH_ON_SUPERVISE, encoding="utf-8")
    out = tmp_path / "events.jsonl"
    extra = "\n".join(
        [
            'plugins_dir = "lp"',
            "[[sinks]]",
            'type = "crash_on_supervise"',
            f"path = {toml_value(str(out))}",
            f"marker = {toml_value(str(tmp_path / 'crashed'))}",
        ]
    )

    def run(as_of: str) -> int:
        cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}], extra, as_of)
        return run_cli("check", "--json", "--config", str(cfg)).returncode

    assert run("2024-09-30") == 0
    assert run("2024-10-14") == 17  # died after writing 督办, before marking it delivered
    assert [(c["item_id"], c["state"]) for c in listed(tmp_path)] == [("45", "督办中")]  # committed with it
    assert run("2024-10-14") == 0
    assert run("2024-10-14") == 0
    assert len(listed(tmp_path)) == 1
    levels = [json.loads(x)["level"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert levels == ["remind", "supervise"]
